# shellcheck shell=bash
# Tools, not services: nginx for `nginx -t` and the edge tests, Prometheus and promtool for the
# observability checks (`promtool check rules`, `promtool test rules`, a Prometheus that a test
# starts itself to scrape a generated app), wrk for the request benchmarks (`benchmarks/`).
# Nothing runs; `up` only installs them.

tools_bin() { command -v "$1" 2>/dev/null || { [[ -x /usr/sbin/$1 ]] && echo "/usr/sbin/$1"; }; }

tools_packages() {
    tools_bin nginx >/dev/null || echo nginx-light
    { tools_bin promtool >/dev/null && tools_bin prometheus >/dev/null; } || echo prometheus
    tools_bin wrk >/dev/null || echo wrk
}

tools_up() {
    local tool
    for tool in nginx prometheus promtool wrk; do
        tools_bin "$tool" >/dev/null || die "tools: $tool not found after installing its package"
    done
    log "tools: nginx, prometheus, promtool and wrk installed"
}

tools_down() { :; }
tools_is_up() { tools_bin nginx >/dev/null && tools_bin prometheus >/dev/null && tools_bin promtool >/dev/null && tools_bin wrk >/dev/null; }
tools_where() { printf 'nginx %s, prometheus %s, promtool %s, wrk %s\n' "$(tools_bin nginx)" "$(tools_bin prometheus)" "$(tools_bin promtool)" "$(tools_bin wrk)"; }
tools_env() {
    printf 'export PROMETHEUS_BIN=%s\n' "$(tools_bin prometheus || echo /usr/bin/prometheus)"
    printf 'export PROMTOOL_BIN=%s\n' "$(tools_bin promtool || echo /usr/bin/promtool)"
}
