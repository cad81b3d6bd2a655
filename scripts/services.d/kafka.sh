# shellcheck shell=bash
# Kafka in KRaft mode (one combined broker and controller), from the Maven Central jars of
# kafka/pom.xml, run as the invoking user. Small heap: -Xmx128m works only with a small log
# cleaner dedupe buffer (the default 128 MiB buffer alone would not fit).

service_port KAFKA_PORT 29092
service_port KAFKA_CONTROLLER_PORT 29093

KAFKA_DIR="$STATE_DIR/kafka"
KAFKA_PROPERTIES="$KAFKA_DIR/server.properties"

KAFKA_JVM_FLAGS=(-Xms64m -Xmx128m -XX:+UseSerialGC "-Dlog4j2.configurationFile=$SERVICES_D/kafka/log4j2.properties")

kafka_libs() { printf '%s/libs\n' "$(maven_dest kafka "$SERVICES_D/kafka/pom.xml")"; }
kafka_java() { java "${KAFKA_JVM_FLAGS[@]}" -cp "$(kafka_libs)/*" "$@"; }

kafka_packages() {
    command -v java >/dev/null || echo default-jre-headless
    [[ -f $(maven_dest kafka "$SERVICES_D/kafka/pom.xml")/.complete ]] || command -v mvn >/dev/null || echo maven
}
kafka_install() { maven_fetch kafka "$SERVICES_D/kafka/pom.xml"; }

kafka_write_properties() {
    cat >"$KAFKA_PROPERTIES" <<PROPERTIES
# Written by scripts/services on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
auto.create.topics.enable=true
# One broker: every internal topic has one replica (and few partitions, so the first consumer
# group or transaction does not wait for fifty partitions to be made).
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests: no wait before the first rebalance; a dedupe buffer that fits a 128 MiB heap.
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=4194304
PROPERTIES
}

# Format the KRaft storage once (a new cluster id).
kafka_format() {
    local cluster_id
    [[ -f $KAFKA_DIR/data/meta.properties ]] && return 0
    log "kafka: formatting KRaft storage in $KAFKA_DIR/data"
    cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$KAFKA_DIR/format.log")" ||
        { show_log_tail "$KAFKA_DIR/format.log"; die "kafka: StorageTool random-uuid failed"; }
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_PROPERTIES" >>"$KAFKA_DIR/format.log" 2>&1 ||
        { show_log_tail "$KAFKA_DIR/format.log"; die "kafka: StorageTool format failed"; }
}

kafka_signature() { echo "ports $KAFKA_PORT $KAFKA_CONTROLLER_PORT, jars $(kafka_libs)"; }
kafka_is_running() { daemon_running kafka java "$KAFKA_PROPERTIES" "$(kafka_signature)"; }
kafka_probe() { probe kafka 127.0.0.1 "$KAFKA_PORT"; }

kafka_up() {
    [[ -f $(maven_dest kafka "$SERVICES_D/kafka/pom.xml")/.complete ]] || die "kafka: jars not installed"
    mkdir -p "$KAFKA_DIR"
    if ! kafka_is_running; then
        kafka_write_properties
        kafka_format
        require_free_port kafka "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
        log "kafka: starting on 127.0.0.1:$KAFKA_PORT"
        daemon_spawn kafka "$(kafka_signature)" \
            java "${KAFKA_JVM_FLAGS[@]}" -cp "$(kafka_libs)/*" kafka.Kafka "$KAFKA_PROPERTIES"
    fi
    daemon_wait kafka "127.0.0.1:$KAFKA_PORT" kafka_probe
    log "kafka: up on 127.0.0.1:$KAFKA_PORT (data in $KAFKA_DIR/data)"
}

kafka_down() { daemon_stop kafka java "$KAFKA_PROPERTIES"; }
kafka_is_up() { [[ -n $(daemon_pid kafka java "$KAFKA_PROPERTIES") ]] && kafka_probe >/dev/null 2>&1; }
kafka_where() { echo "127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT)"; }
kafka_env() { printf 'export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:%s\n' "$KAFKA_PORT"; }
