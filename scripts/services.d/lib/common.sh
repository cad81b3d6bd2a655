# shellcheck shell=bash
# Helpers shared by scripts/services and every scripts/services.d/<name>.sh (sourced, not run).
# Globals they use: STATE_DIR, CACHE_DIR, TIMEOUT, SERVICES_D (set by scripts/services).

log() { printf 'services: %s\n' "$*" >&2; }
die() {
    printf 'services: error: %s\n' "$*" >&2
    exit 1
}

# Print the last lines of a log file to stderr (used when a service fails to come up).
show_log_tail() {
    local file=$1
    if [[ -f $file ]]; then
        printf -- '--- last lines of %s ---\n' "$file" >&2
        tail -n 40 "$file" >&2 || true
        printf -- '--- end of %s ---\n' "$file" >&2
    else
        printf 'services: (no log file at %s)\n' "$file" >&2
    fi
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# True when process $1 is alive, its name is $2 and its command line contains $3.
# Guards against a stale pid file whose pid was reused by an unrelated process. A zombie has an
# empty command line, so a stopped daemon that nobody reaped does not count as alive.
pid_matches() {
    local pid=$1 name=$2 needle=$3 comm cmdline
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/comm ]] || return 1
    comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || return 1
    [[ $comm == "$name" ]] || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ $cmdline == *"$needle"* ]]
}

# Wait (bounded by $TIMEOUT) until "$@" succeeds.
wait_until() {
    local deadline=$((SECONDS + TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------------------------
# Ports. A service file declares each port it listens on with `service_port VAR DEFAULT`: the
# value comes from $SCAFFOLD_<VAR> when set. scripts/services validates all of them at start.

PORT_VARS=()
service_port() {
    local var=$1 default=$2 env_name="SCAFFOLD_$1"
    printf -v "$var" '%s' "${!env_name:-$default}"
    PORT_VARS+=("$var")
}

check_port() {
    local name=$1 value=$2
    if ! [[ $value =~ ^[0-9]{1,5}$ ]] || ((10#$value < 1 || 10#$value > 65535)); then
        die "$name must be a TCP port, got '$value'"
    fi
}

# Every declared port is a valid port, and no two services share one.
check_ports() {
    local var seen=" " value
    for var in "${PORT_VARS[@]}"; do
        value=${!var}
        check_port "SCAFFOLD_$var" "$value"
        value=$((10#$value))
        [[ $seen != *" $value "* ]] || die "SCAFFOLD_$var: port $value is also used by another service"
        seen+="$value "
    done
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Fail fast, before starting service $1 on ports $2..., if another process already holds one.
require_free_port() {
    local name=$1 port
    shift
    for port in "$@"; do
        if port_in_use "$port"; then
            die "$name: port 127.0.0.1:$port is already in use by another process; stop it or choose another port (see docs/services.md)"
        fi
    done
}

# ---------------------------------------------------------------------------------------------
# Locks. The state lock (fd 9) serialises up/down of one state directory; the cache lock (fd 8)
# serialises installs into the shared cache. Every daemon is started with 9>&- 8>&- so that it
# does not keep a lock after this script exits.

take_lock() {
    mkdir -p "$STATE_DIR"
    # A state dir inside some other git checkout must not show up as untracked files there.
    [[ -f $STATE_DIR/.gitignore ]] || printf '*\n' >"$STATE_DIR/.gitignore"
    exec 9>"$STATE_DIR/.lock"
    flock -w 300 9 || die "could not lock $STATE_DIR/.lock within 300s (another 'up' or 'down' stuck?)"
}

CACHE_LOCKED=
take_cache_lock() {
    [[ -z $CACHE_LOCKED ]] || return 0
    mkdir -p "$CACHE_DIR"
    # flock works on a read-only descriptor too: a cache that another user made stays usable.
    { exec 8>>"$CACHE_DIR/.lock"; } 2>/dev/null || exec 8<"$CACHE_DIR/.lock"
    flock -w 1800 8 || die "could not lock $CACHE_DIR/.lock within 30 min (another install stuck?)"
    CACHE_LOCKED=1
}

release_cache_lock() {
    exec 8>&-
    CACHE_LOCKED=
}

# ---------------------------------------------------------------------------------------------
# Daemons that do not daemonize themselves (JVMs, Go and Python servers). Service NAME keeps its
# files in $STATE_DIR/NAME: NAME.pid (the daemon's pid), NAME.signature (the ports and program it
# was started with) and NAME.log (its stdout and stderr).

daemon_pidfile() { printf '%s/%s/%s.pid\n' "$STATE_DIR" "$1" "$1"; }
daemon_log() { printf '%s/%s/%s.log\n' "$STATE_DIR" "$1" "$1"; }

# Pid of service NAME's daemon, or nothing: the pid file's process must be named COMM and its
# command line must contain NEEDLE (something unique to this state dir, e.g. a config path).
daemon_pid() {
    local name=$1 comm=$2 needle=$3 pidfile pid
    pidfile="$(daemon_pidfile "$name")"
    [[ -f $pidfile ]] || return 0
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if pid_matches "$pid" "$comm" "$needle"; then printf '%s\n' "$pid"; fi
}

# Decide what `up` does for a daemon: return 0 when it already runs with the SIGNATURE (ports
# and program version) now configured, so there is nothing to start; die when it runs with
# another one; return 1 (start it) when it does not run, removing a stale pid file.
daemon_running() {
    local name=$1 comm=$2 needle=$3 signature=$4 pid recorded
    pid="$(daemon_pid "$name" "$comm" "$needle")"
    if [[ -z $pid ]]; then
        rm -f "$(daemon_pidfile "$name")"
        return 1
    fi
    recorded="$(cat "$STATE_DIR/$name/$name.signature" 2>/dev/null || true)"
    [[ $recorded == "$signature" ]] ||
        die "$name: already running (pid $pid) as '${recorded:-unknown}', not '$signature'; run 'scripts/services down $name' first"
    return 0
}

# Start "$@" as service NAME's daemon (recording its SIGNATURE), detached in its own session,
# with its output in NAME.log.
# The child writes its own pid before exec'ing the program, so the pid file is exact.
daemon_spawn() {
    local name=$1 signature=$2 pidfile log
    shift 2
    pidfile="$(daemon_pidfile "$name")"
    log="$(daemon_log "$name")"
    mkdir -p "$STATE_DIR/$name"
    rm -f "$pidfile"
    printf '%s\n' "$signature" >"$STATE_DIR/$name/$name.signature"
    printf -- '--- %s: started by scripts/services\n' "$(date -Is)" >>"$log"
    # shellcheck disable=SC2016 # $$, $0 and $@ belong to the inner bash
    (cd / && exec setsid bash -c 'echo $$ >"$0" && exec "$@"' "$pidfile" "$@") \
        </dev/null >>"$log" 2>&1 9>&- 8>&- &
    local deadline=$((SECONDS + TIMEOUT))
    until [[ -s $pidfile ]]; do
        ((SECONDS < deadline)) || die "$name: the daemon did not start (no pid file)"
        sleep 0.05
    done
}

# True while the process in NAME's pid file is alive (not yet necessarily exec'd into the
# program: right after daemon_spawn it may still be bash or env).
daemon_alive() {
    local pid state
    pid="$(cat "$(daemon_pidfile "$1")" 2>/dev/null || true)"
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)" || return 1
    [[ -n $state && $state != Z ]]
}

# Wait until the probe "$@" succeeds; fail at once (with the log tail) if the daemon dies first.
daemon_wait() {
    local name=$1 what=$2 log deadline=$((SECONDS + TIMEOUT))
    shift 2
    log="$(daemon_log "$name")"
    until "$@" >/dev/null 2>&1; do
        if ! daemon_alive "$name"; then
            show_log_tail "$log"
            die "$name: exited during start-up"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail "$log"
            die "$name: not answering on $what after ${TIMEOUT}s"
        fi
        sleep 0.2
    done
}

# Stop service NAME's daemon (SIGTERM, then SIGKILL after $TIMEOUT); idempotent.
daemon_stop() {
    local name=$1 comm=$2 needle=$3 pid
    pid="$(daemon_pid "$name" "$comm" "$needle")"
    if [[ -z $pid ]]; then
        rm -f "$(daemon_pidfile "$name")"
        log "$name: not running"
        return 0
    fi
    log "$name: stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until daemon_gone "$pid" "$comm" "$needle"; then
        log "$name: pid $pid still alive after ${TIMEOUT}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_until daemon_gone "$pid" "$comm" "$needle" || die "$name: pid $pid survives SIGKILL"
    fi
    rm -f "$(daemon_pidfile "$name")"
}

daemon_gone() { ! pid_matches "$1" "$2" "$3"; }

# The protocol-level probes (HTTP, Kafka, AMQP) live in one small Python file.
probe() { python3 "$SERVICES_D/lib/probe.py" "$@"; }
