# shellcheck shell=bash
# PostgreSQL streaming replica of primary 1 (the `postgres` service): read-only, in recovery,
# following the primary through the physical replication slot `scaffold_replica`. Made once with
# pg_basebackup -R (which writes primary_conninfo and standby.signal); it connects to the
# primary over the primary's private unix socket as `postgres` (trust), so no password is kept.
# Roles and databases made on the primary appear here.

service_port PG_REPLICA_PORT 55434

PG_REPLICA_SLOT=scaffold_replica

pg_replica_requires() { echo postgres; }
pg_replica_use() { pg_use pg_replica "$PG_REPLICA_PORT"; }
pg_replica_packages() { pg_packages; }

# Clone primary 1 into the replica's data dir (once), through a temporary dir.
pg_replica_clone() {
    local bin=$1 tmp primary_socket="$STATE_DIR/postgres/run"
    [[ -f $PG_DATA/PG_VERSION ]] && return 0
    tmp="$PG_DIR/data.basebackup"
    rm -rf "$tmp"
    log "pg_replica: pg_basebackup of postgres (127.0.0.1:$PG_PORT) into $PG_DATA"
    # A slot left by a replica that was deleted would make -C fail; it belongs to us, drop it.
    as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$primary_socket" -p "$PG_PORT" -U postgres -d postgres \
        -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$PG_REPLICA_SLOT' AND NOT active" \
        >/dev/null || die "pg_replica: cannot reach postgres through $primary_socket"
    if ! as_pg "$bin/pg_basebackup" -D "$tmp" -h "$primary_socket" -p "$PG_PORT" -U postgres \
        -R -X stream -C -S "$PG_REPLICA_SLOT" --checkpoint=fast >"$PG_DIR/basebackup.log" 2>&1; then
        show_log_tail "$PG_DIR/basebackup.log"
        die "pg_replica: pg_basebackup failed"
    fi
    mv "$tmp" "$PG_DATA"
}

pg_replica_in_recovery() {
    local bin
    bin="$(pg_bin_dir)" || return 1
    [[ $(pg_psql "$bin" -d postgres -tAc 'SELECT pg_is_in_recovery()' 2>/dev/null) == t ]]
}

pg_replica_up() {
    local bin
    pg_replica_use
    bin="$(pg_bin_dir)" || die "pg_replica: no server found under /usr/lib/postgresql/*/bin"
    pg_prepare_dir
    pg_check_version "$bin"
    pg_start "$bin" pg_replica_clone
    if ! wait_until pg_replica_in_recovery; then
        show_log_tail "$PG_LOG"
        die "pg_replica: 127.0.0.1:$PG_REPLICA_PORT answers but is not a standby (pg_is_in_recovery() is false); run 'scripts/services down pg_replica' and delete $PG_DIR"
    fi
    log "pg_replica: up on 127.0.0.1:$PG_REPLICA_PORT, streaming from postgres (data in $PG_DATA)"
}

pg_replica_down() { pg_replica_use && pg_down; }
pg_replica_is_up() { pg_replica_use && pg_is_up && pg_replica_in_recovery; }
pg_replica_where() { echo "127.0.0.1:$PG_REPLICA_PORT (replica of 127.0.0.1:$PG_PORT)"; }
pg_replica_env() { printf 'export POSTGRES_REPLICA_URL=%s\n' "$(pg_url "$PG_REPLICA_PORT")"; }
