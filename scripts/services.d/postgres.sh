# shellcheck shell=bash
# PostgreSQL primary 1 (DATABASE_URL), and the instance functions that pg_shard2 and pg_replica
# reuse.
#
# Each instance lives in $STATE_DIR/<instance>/{data,run,postgres.log} and is run by the
# `postgres` OS user (created by the Debian package) when this script runs as root, because
# PostgreSQL refuses to run as root. We do not change the permissions of any directory above
# $STATE_DIR: instead we check that `postgres` can reach $STATE_DIR and fail with a clear message
# if it cannot (then point SCAFFOLD_SERVICES_DIR at a directory it can reach, e.g. under /tmp).
# Run as a normal user, the script runs everything as that user.

service_port PG_PORT 55432

PG_USER=scaffold
PG_PASSWORD=scaffold
PG_DATABASE=scaffold

# The instance the pg_* functions act on: pg_use NAME PORT sets these. PG_EXTRA_CONF: more
# settings for its scaffold.conf (a replica's primary_conninfo).
PG_NAME='' PG_INSTANCE_PORT='' PG_DIR='' PG_DATA='' PG_SOCKET_DIR='' PG_LOG='' PG_EXTRA_CONF=''
pg_use() {
    PG_EXTRA_CONF=''
    PG_NAME=$1
    PG_INSTANCE_PORT=$2
    PG_DIR="$STATE_DIR/$1"
    PG_DATA="$PG_DIR/data"
    PG_SOCKET_DIR="$PG_DIR/run"
    PG_LOG="$PG_DIR/postgres.log"
}

pg_url() { printf 'postgresql://%s:%s@127.0.0.1:%s/%s' "$PG_USER" "$PG_PASSWORD" "$1" "$PG_DATABASE"; }

pg_bin_dir() {
    local dir
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)"
    [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl && -x $dir/postgres ]] || return 1
    printf '%s\n' "$dir"
}

# Run a PostgreSQL program as the owner of the cluster (from /, so it never complains about an
# unreadable working directory).
as_pg() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

pg_packages() {
    pg_bin_dir >/dev/null || echo postgresql
    command -v psql >/dev/null || echo postgresql-client
}

# Pid of the postmaster serving the instance's data dir, or nothing (a stale postmaster.pid
# prints nothing).
pg_pid() {
    local pid
    [[ -f $PG_DATA/postmaster.pid ]] || return 0
    pid="$(sed -n 1p "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
    if pid_matches "$pid" postgres "$PG_DATA"; then printf '%s\n' "$pid"; fi
}

# Port the running postmaster listens on (line 4 of postmaster.pid).
pg_running_port() { sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true; }

pg_is_up() {
    local bin
    bin="$(pg_bin_dir)" || return 1
    [[ -n $(pg_pid) ]] || return 1
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_INSTANCE_PORT" -d postgres -t 2
}

# Make the instance's folder, owned by `postgres` when root, and check that it can reach it.
pg_prepare_dir() {
    mkdir -p "$PG_DIR"
    if is_root; then
        id postgres >/dev/null 2>&1 || die "$PG_NAME: the 'postgres' OS user does not exist (is the postgresql package installed?)"
        chown postgres: "$PG_DIR"
        chmod 0755 "$PG_DIR"
        runuser -u postgres -- test -x "$STATE_DIR" -a -w "$PG_DIR" ||
            die "$PG_NAME: the 'postgres' OS user cannot reach $PG_DIR (a parent directory is not searchable by it); set SCAFFOLD_SERVICES_DIR to a directory it can reach, e.g. /tmp/scaffold-services"
    fi
}

pg_check_version() {
    local bin=$1
    if [[ -f $PG_DATA/PG_VERSION && $(cat "$PG_DATA/PG_VERSION") != "$(basename "$(dirname "$bin")")" ]]; then
        die "$PG_NAME: $PG_DATA was made by PostgreSQL $(cat "$PG_DATA/PG_VERSION") but the newest server is $bin; run 'scripts/services down' and delete $PG_DIR (test data only)"
    fi
}

pg_init() {
    local bin=$1 tmp pwfile
    [[ -f $PG_DATA/PG_VERSION ]] && return 0
    log "$PG_NAME: initdb in $PG_DATA"
    # initdb into a temporary dir and rename, so a half-made cluster is never mistaken for a real one.
    tmp="$PG_DIR/data.initdb"
    rm -rf "$tmp"
    pwfile="$PG_DIR/.pwfile"
    # The `postgres` superuser only logs in over the private unix socket (trust); TCP needs a password.
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$pwfile"
    if is_root; then chown postgres: "$pwfile"; fi
    if ! as_pg "$bin/initdb" -D "$tmp" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1; then
        rm -f "$pwfile"
        show_log_tail "$PG_DIR/initdb.log"
        die "$PG_NAME: initdb failed"
    fi
    rm -f "$pwfile"
    echo "include_if_exists = 'scaffold.conf'" >>"$tmp/postgresql.conf"
    mv "$tmp" "$PG_DATA"
}

pg_write_conf() {
    local conf="$PG_DATA/scaffold.conf"
    cat >"$conf" <<EOF
# Written by scripts/services on every start; edits are overwritten.
listen_addresses = '127.0.0.1'
port = $PG_INSTANCE_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 200
# Test speed over durability: a crash may lose or corrupt data, which tests do not keep.
fsync = off
synchronous_commit = off
full_page_writes = off
# Streaming replication (pg_replica follows primary 1 through a replication slot; the slot may
# hold back at most this much WAL while the replica is down).
wal_level = replica
max_wal_senders = 10
max_slot_wal_keep_size = 1GB
hot_standby = on
EOF
    if [[ -n $PG_EXTRA_CONF ]]; then printf '%s\n' "$PG_EXTRA_CONF" >>"$conf"; fi
    if is_root; then chown postgres: "$conf"; fi
}

pg_psql() {
    local bin=$1
    shift
    as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_INSTANCE_PORT" -U postgres "$@"
}

pg_ensure_role_and_db() {
    local bin=$1
    pg_psql "$bin" -d postgres <<EOF
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER;
  END IF;
END
\$\$;
ALTER ROLE $PG_USER WITH LOGIN CREATEDB CREATEROLE NOSUPERUSER PASSWORD '$PG_PASSWORD';
EOF
    if [[ -z $(pg_psql "$bin" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'") ]]; then
        pg_psql "$bin" -d postgres -c "CREATE DATABASE $PG_DATABASE OWNER $PG_USER"
    fi
}

# Start the current instance from its data dir (made by PREPARE, a function that gets the bin
# dir: initdb for a primary, pg_basebackup for a replica) unless it already runs.
pg_start() {
    local bin=$1 prepare=$2 pid running_port
    pid="$(pg_pid)"
    if [[ -n $pid ]]; then
        running_port="$(pg_running_port)"
        [[ $running_port == "$PG_INSTANCE_PORT" ]] ||
            die "$PG_NAME: already running from $PG_DATA on port $running_port, not $PG_INSTANCE_PORT; run 'scripts/services down' first"
    else
        "$prepare" "$bin"
        # No postmaster of ours is alive: any pid/lock file left is stale (crash, kill -9, reboot).
        rm -f "$PG_DATA/postmaster.pid" "$PG_SOCKET_DIR/.s.PGSQL.$PG_INSTANCE_PORT.lock"
        mkdir -p "$PG_SOCKET_DIR"
        if is_root; then chown postgres: "$PG_SOCKET_DIR"; fi
        pg_write_conf
        require_free_port "$PG_NAME" "$PG_INSTANCE_PORT"
        log "$PG_NAME: starting on 127.0.0.1:$PG_INSTANCE_PORT"
        # -w: pg_ctl waits (bounded) and notices at once if the postmaster dies during start-up.
        # 9>&- 8>&-: the daemon must not inherit the lock fds, or it would hold them for its lifetime.
        if ! as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$TIMEOUT" -s start 9>&- 8>&-; then
            show_log_tail "$PG_LOG"
            die "$PG_NAME: pg_ctl start failed"
        fi
    fi
    if ! wait_until pg_is_up; then
        show_log_tail "$PG_LOG"
        die "$PG_NAME: not answering on 127.0.0.1:$PG_INSTANCE_PORT after ${TIMEOUT}s"
    fi
}

# A primary: initdb once, start, and make sure the scaffold role and database exist.
pg_primary_up() {
    local bin
    bin="$(pg_bin_dir)" || die "$PG_NAME: no server found under /usr/lib/postgresql/*/bin"
    pg_prepare_dir
    pg_check_version "$bin"
    pg_start "$bin" pg_init
    pg_ensure_role_and_db "$bin" || {
        show_log_tail "$PG_LOG"
        die "$PG_NAME: could not create role/database '$PG_USER'"
    }
    log "$PG_NAME: up on 127.0.0.1:$PG_INSTANCE_PORT (data in $PG_DATA)"
}

pg_down() {
    local bin pid
    pid="$(pg_pid)"
    if [[ -z $pid ]]; then
        rm -f "$PG_DATA/postmaster.pid"
        log "$PG_NAME: not running"
        return 0
    fi
    bin="$(pg_bin_dir)" || die "$PG_NAME: running (pid $pid) but pg_ctl not found"
    log "$PG_NAME: stopping (pid $pid)"
    if ! as_pg "$bin/pg_ctl" -D "$PG_DATA" -m fast -w -t "$TIMEOUT" -s stop; then
        show_log_tail "$PG_LOG"
        die "$PG_NAME: pg_ctl stop failed"
    fi
}

postgres_use() { pg_use postgres "$PG_PORT"; }
postgres_packages() { pg_packages; }
postgres_up() { postgres_use && pg_primary_up; }
postgres_down() { postgres_use && pg_down; }
postgres_is_up() { postgres_use && pg_is_up; }
postgres_where() { echo "127.0.0.1:$PG_PORT"; }
postgres_env() { printf 'export DATABASE_URL=%s\n' "$(pg_url "$PG_PORT")"; }
