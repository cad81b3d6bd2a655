# shellcheck shell=bash
# PostgreSQL streaming replica of primary 1 (the `postgres` service): read-only, in recovery,
# following the primary through the physical replication slot `scaffold_replica`. Made once with
# pg_basebackup -R (standby.signal). It connects to the primary over the primary's private unix
# socket as `postgres` (trust), so no password is kept; that connection is written into its
# scaffold.conf on every start (not left in postgresql.auto.conf, where -R puts it), so it follows
# SCAFFOLD_PG_PORT. Roles and databases made on the primary appear here.

service_port PG_REPLICA_PORT 25434

PG_REPLICA_SLOT=scaffold_replica

pg_replica_requires() { echo postgres; }
pg_replica_use() { pg_use pg_replica "$PG_REPLICA_PORT"; }
pg_replica_packages() { pg_packages; }

# Before each start: clone primary 1 if there is no data dir yet, and keep primary_conninfo out
# of postgresql.auto.conf (where -R writes it), which would override scaffold.conf's.
pg_replica_prepare() {
    local bin=$1
    if [[ -f $PG_DATA/PG_VERSION ]] && ! pg_replica_matches_primary "$bin"; then
        log "pg_replica: its data no longer fits postgres (a new cluster, or its slot lost WAL it needs); cloning again"
        rm -rf "$PG_DATA"
    fi
    [[ -f $PG_DATA/PG_VERSION ]] || pg_replica_clone "$bin"
    as_pg sed -i '/^primary_conninfo\|^primary_slot_name/d' "$PG_DATA/postgresql.auto.conf"
}

# psql as `postgres` on primary 1, over its unix socket.
pg_primary_psql() {
    local bin=$1
    shift
    as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$STATE_DIR/postgres/run" -p "$PG_PORT" -U postgres -d postgres "$@"
}

system_identifier() {
    as_pg "$1/pg_controldata" "$2" 2>/dev/null | sed -n 's/^Database system identifier:[[:space:]]*//p'
}

# The replica's data comes from primary 1 as it is now, and the slot still holds what it needs.
pg_replica_matches_primary() {
    local bin=$1 ours theirs
    ours="$(system_identifier "$bin" "$PG_DATA")"
    theirs="$(system_identifier "$bin" "$STATE_DIR/postgres/data")"
    [[ -n $ours && $ours == "$theirs" ]] || return 1
    [[ $(pg_primary_psql "$bin" -tAc "SELECT wal_status FROM pg_replication_slots WHERE slot_name = '$PG_REPLICA_SLOT'") =~ ^(reserved|extended|unreserved)$ ]]
}

# Clone primary 1 into the replica's data dir, through a temporary dir.
pg_replica_clone() {
    local bin=$1 tmp primary_socket="$STATE_DIR/postgres/run"
    tmp="$PG_DIR/data.basebackup"
    rm -rf "$tmp"
    log "pg_replica: pg_basebackup of postgres (127.0.0.1:$PG_PORT) into $PG_DATA"
    # A slot left by a replica that was deleted would make -C fail; it belongs to us, drop it.
    pg_primary_psql "$bin" \
        -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$PG_REPLICA_SLOT' AND NOT active" \
        >/dev/null || die "pg_replica: cannot reach postgres through $primary_socket"
    if ! as_pg "$bin/pg_basebackup" -D "$tmp" -h "$primary_socket" -p "$PG_PORT" -U postgres \
        -R -X stream -C -S "$PG_REPLICA_SLOT" --checkpoint=fast >"$PG_DIR/basebackup.log" 2>&1; then
        show_log_tail "$PG_DIR/basebackup.log"
        die "pg_replica: pg_basebackup failed"
    fi
    mv "$tmp" "$PG_DATA"
}

pg_replica_conf() {
    printf '%s\n' \
        "primary_conninfo = 'host=$STATE_DIR/postgres/run port=$PG_PORT user=postgres application_name=pg_replica'" \
        "primary_slot_name = '$PG_REPLICA_SLOT'"
}

# In recovery, and receiving WAL from the primary.
pg_replica_streaming() {
    local bin
    bin="$(pg_bin_dir)" || return 1
    [[ $(pg_psql "$bin" -d postgres -tAc \
        "SELECT pg_is_in_recovery() AND EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming')" \
        2>/dev/null) == t ]]
}

pg_replica_up() {
    local bin
    pg_replica_use
    bin="$(pg_bin_dir)" || die "pg_replica: no server found under /usr/lib/postgresql/*/bin"
    # shellcheck disable=SC2034 # read by pg_write_conf (postgres.sh)
    PG_EXTRA_CONF="$(pg_replica_conf)"
    pg_prepare_dir
    pg_check_version "$bin"
    pg_start "$bin" pg_replica_prepare
    if ! wait_until pg_replica_streaming; then
        show_log_tail "$PG_LOG"
        die "pg_replica: 127.0.0.1:$PG_REPLICA_PORT answers but is not streaming from postgres (see pg_stat_wal_receiver and the log above)"
    fi
    log "pg_replica: up on 127.0.0.1:$PG_REPLICA_PORT, streaming from postgres (data in $PG_DATA)"
}

pg_replica_down() { pg_replica_use && pg_down; }
pg_replica_is_up() { pg_replica_use && pg_is_up && pg_replica_streaming; }
pg_replica_where() { echo "127.0.0.1:$PG_REPLICA_PORT (replica of 127.0.0.1:$PG_PORT)"; }
pg_replica_env() { printf 'export POSTGRES_REPLICA_URL=%s\n' "$(pg_url "$PG_REPLICA_PORT")"; }
