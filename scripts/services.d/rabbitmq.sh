# shellcheck shell=bash
# RabbitMQ from Debian's rabbitmq-server package, run as the invoking user through the package's
# own start script (/usr/lib/rabbitmq/bin/rabbitmq-server, not the /usr/sbin wrapper that
# switches to the rabbitmq user). Everything is on loopback: AMQP, the Erlang distribution port
# (set explicitly: the default, AMQP port + 20000, overflows for high ports), epmd, and the
# management plugin's HTTP API (tests create their own vhosts through it). HOME points into the
# state dir, so the Erlang cookie is ours and never the user's.

service_port RABBITMQ_PORT 25672
service_port RABBITMQ_DIST_PORT 25673
service_port RABBITMQ_MANAGEMENT_PORT 25674
service_port EPMD_PORT 24369

RABBITMQ_USER=scaffold
RABBITMQ_PASSWORD=scaffold
RABBITMQ_DIR="$STATE_DIR/rabbitmq"
RABBITMQ_SCRIPT=/usr/lib/rabbitmq/bin/rabbitmq-server

rabbitmq_packages() { [[ -x $RABBITMQ_SCRIPT ]] || echo rabbitmq-server; }

rabbitmq_write_config() {
    mkdir -p "$RABBITMQ_DIR/home"
    cat >"$RABBITMQ_DIR/rabbitmq.conf" <<CONF
# Written by scripts/services on every start; edits are overwritten.
listeners.tcp.1 = 127.0.0.1:$RABBITMQ_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $RABBITMQ_MANAGEMENT_PORT
default_user = $RABBITMQ_USER
default_pass = $RABBITMQ_PASSWORD
default_user_tags.administrator = true
log.console = true
log.console.level = warning
log.file = false
CONF
    echo '[rabbitmq_management].' >"$RABBITMQ_DIR/enabled_plugins"
    : >"$RABBITMQ_DIR/rabbitmq-env.conf" # read instead of /etc/rabbitmq/rabbitmq-env.conf
}

# The environment of the node and of epmd: every file in the state dir, every socket on loopback.
rabbitmq_environment() {
    printf '%s\n' \
        "HOME=$RABBITMQ_DIR/home" \
        "RABBITMQ_CONF_ENV_FILE=$RABBITMQ_DIR/rabbitmq-env.conf" \
        "RABBITMQ_CONFIG_FILE=$RABBITMQ_DIR/rabbitmq.conf" \
        "RABBITMQ_ENABLED_PLUGINS_FILE=$RABBITMQ_DIR/enabled_plugins" \
        "RABBITMQ_MNESIA_BASE=$RABBITMQ_DIR/mnesia" \
        "RABBITMQ_LOG_BASE=$RABBITMQ_DIR/log" \
        "RABBITMQ_NODENAME=scaffold@localhost" \
        "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1" \
        "RABBITMQ_NODE_PORT=$RABBITMQ_PORT" \
        "RABBITMQ_DIST_PORT=$RABBITMQ_DIST_PORT" \
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}" \
        "ERL_EPMD_ADDRESS=127.0.0.1" \
        "ERL_EPMD_PORT=$EPMD_PORT"
}

# The start script stays in the foreground as the node's parent and stops the node on SIGTERM.
# The extra argument only tags the node's command line with this state dir (for pid checks).
rabbitmq_signature() { echo "ports $RABBITMQ_PORT $RABBITMQ_DIST_PORT $RABBITMQ_MANAGEMENT_PORT $EPMD_PORT"; }
rabbitmq_is_running() { daemon_running rabbitmq rabbitmq-server "$RABBITMQ_DIR" "$(rabbitmq_signature)"; }
rabbitmq_probe() { probe amqp 127.0.0.1 "$RABBITMQ_PORT" "$RABBITMQ_USER" "$RABBITMQ_PASSWORD"; }

rabbitmq_up() {
    local env_lines
    [[ -x $RABBITMQ_SCRIPT ]] || die "rabbitmq: $RABBITMQ_SCRIPT not found (Debian: apt-get install rabbitmq-server)"
    mkdir -p "$RABBITMQ_DIR"
    if ! rabbitmq_is_running; then
        rabbitmq_write_config
        require_free_port rabbitmq "$RABBITMQ_PORT" "$RABBITMQ_DIST_PORT" "$RABBITMQ_MANAGEMENT_PORT"
        log "rabbitmq: starting on 127.0.0.1:$RABBITMQ_PORT"
        mapfile -t env_lines < <(rabbitmq_environment)
        daemon_spawn rabbitmq "$(rabbitmq_signature)" \
            env "${env_lines[@]}" "$RABBITMQ_SCRIPT" -scaffold_services "$RABBITMQ_DIR"
    fi
    daemon_wait rabbitmq "127.0.0.1:$RABBITMQ_PORT" rabbitmq_probe
    daemon_wait rabbitmq "127.0.0.1:$RABBITMQ_MANAGEMENT_PORT" rabbitmq_management_probe
    log "rabbitmq: up on 127.0.0.1:$RABBITMQ_PORT, management on 127.0.0.1:$RABBITMQ_MANAGEMENT_PORT (data in $RABBITMQ_DIR/mnesia)"
}

rabbitmq_management_probe() {
    probe http "http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT/api/overview" \
        --header "Authorization: Basic $(printf '%s:%s' "$RABBITMQ_USER" "$RABBITMQ_PASSWORD" | base64)" \
        --expect rabbitmq_version
}

rabbitmq_down() {
    daemon_stop rabbitmq rabbitmq-server "$RABBITMQ_DIR"
    # epmd outlives the node; stop ours (the one on our port) too.
    if port_in_use "$EPMD_PORT"; then
        log "rabbitmq: stopping epmd on 127.0.0.1:$EPMD_PORT"
        ERL_EPMD_PORT=$EPMD_PORT epmd -kill >/dev/null 2>&1 || log "rabbitmq: epmd -kill failed"
    fi
}

rabbitmq_is_up() {
    [[ -n $(daemon_pid rabbitmq rabbitmq-server "$RABBITMQ_DIR") ]] && rabbitmq_probe >/dev/null 2>&1
}
rabbitmq_where() { echo "127.0.0.1:$RABBITMQ_PORT (management 127.0.0.1:$RABBITMQ_MANAGEMENT_PORT, epmd $EPMD_PORT)"; }
rabbitmq_env() {
    printf 'export RABBITMQ_URL=amqp://%s:%s@127.0.0.1:%s/\n' "$RABBITMQ_USER" "$RABBITMQ_PASSWORD" "$RABBITMQ_PORT"
    printf 'export RABBITMQ_MANAGEMENT_URL=http://%s:%s@127.0.0.1:%s/\n' "$RABBITMQ_USER" "$RABBITMQ_PASSWORD" "$RABBITMQ_MANAGEMENT_PORT"
}
