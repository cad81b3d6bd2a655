# shellcheck shell=bash
# Redis: runs as the invoking user, daemonized, no persistence at all.

service_port REDIS_PORT 56379

REDIS_DIR="$STATE_DIR/redis"
REDIS_CONF="$REDIS_DIR/redis.conf"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

redis_packages() {
    command -v redis-server >/dev/null || echo redis-server
    command -v redis-cli >/dev/null || echo redis-tools
}

# Pid of our redis-server, or nothing. Redis sets its process title to "redis-server 127.0.0.1:PORT".
redis_pid() {
    local pid
    [[ -f $REDIS_PIDFILE ]] || return 0
    pid="$(cat "$REDIS_PIDFILE" 2>/dev/null || true)"
    if pid_matches "$pid" redis-server "127.0.0.1:"; then printf '%s\n' "$pid"; fi
}

redis_running_port() {
    local pid=$1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | sed -n 's/.*127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p'
}

redis_ping() { [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

redis_is_up() {
    local pid
    pid="$(redis_pid)"
    [[ -n $pid && $(redis_running_port "$pid") == "$REDIS_PORT" ]] && redis_ping
}

redis_up() {
    local pid running_port
    command -v redis-server >/dev/null || die "redis: redis-server not found"
    mkdir -p "$REDIS_DIR"
    pid="$(redis_pid)"
    if [[ -n $pid ]]; then
        running_port="$(redis_running_port "$pid")"
        [[ $running_port == "$REDIS_PORT" ]] ||
            die "redis: already running (pid $pid) on port $running_port, not $REDIS_PORT; run 'scripts/services down' first"
    else
        rm -f "$REDIS_PIDFILE" # stale
        cat >"$REDIS_CONF" <<CONF
# Written by scripts/services on every start; edits are overwritten.
bind 127.0.0.1
protected-mode yes
port $REDIS_PORT
daemonize yes
supervised no
pidfile $REDIS_PIDFILE
logfile $REDIS_LOG
dir $REDIS_DIR
save ""
appendonly no
CONF
        require_free_port redis "$REDIS_PORT"
        log "redis: starting on 127.0.0.1:$REDIS_PORT"
        if ! redis-server "$REDIS_CONF" 9>&- 8>&-; then # 9>&- 8>&-: see pg_start
            show_log_tail "$REDIS_LOG"
            die "redis: redis-server failed to start"
        fi
    fi
    if ! wait_until redis_is_up; then
        show_log_tail "$REDIS_LOG"
        die "redis: not answering on 127.0.0.1:$REDIS_PORT after ${TIMEOUT}s"
    fi
    log "redis: up on 127.0.0.1:$REDIS_PORT"
}

redis_down() {
    local pid port
    pid="$(redis_pid)"
    if [[ -z $pid ]]; then
        rm -f "$REDIS_PIDFILE"
        log "redis: not running"
        return 0
    fi
    port="$(redis_running_port "$pid")"
    log "redis: stopping (pid $pid)"
    redis-cli -h 127.0.0.1 -p "${port:-$REDIS_PORT}" shutdown nosave >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until daemon_gone "$pid" redis-server "127.0.0.1:"; then
        show_log_tail "$REDIS_LOG"
        die "redis: pid $pid still alive after ${TIMEOUT}s"
    fi
    rm -f "$REDIS_PIDFILE"
}

redis_where() { echo "127.0.0.1:$REDIS_PORT"; }
redis_env() { printf 'export REDIS_URL=redis://127.0.0.1:%s/0\n' "$REDIS_PORT"; }
