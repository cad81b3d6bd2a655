# shellcheck shell=bash
# stripe-mock: Stripe's own API mock, which validates every request against Stripe's OpenAPI
# spec (stateless: responses are fixtures). Built with `go install` at a pinned version. HTTP is
# bound with -http-addr to 127.0.0.1 only (-http-port would bind every interface). stripe-mock
# also serves HTTPS on *:12112 unless told otherwise (-http-addr does not turn that off), so its
# HTTPS goes to a unix socket in the state folder, where it binds nothing and cannot collide.

service_port STRIPE_PORT 22111

STRIPE_MOCK_MODULE=github.com/stripe/stripe-mock
STRIPE_MOCK_VERSION=v0.203.0

stripe_bin() { printf '%s/bin/stripe-mock\n' "$(go_dest stripe "$STRIPE_MOCK_VERSION")"; }
stripe_packages() { :; }
stripe_install() { go_fetch stripe "$STRIPE_MOCK_MODULE" "$STRIPE_MOCK_VERSION"; }

stripe_needle() { printf -- '-http-addr 127.0.0.1:'; }
stripe_signature() { echo "port $STRIPE_PORT, $(stripe_bin)"; }
stripe_is_running() { daemon_running stripe stripe-mock "$(stripe_needle)" "$(stripe_signature)"; }
stripe_probe() {
    probe http "http://127.0.0.1:$STRIPE_PORT/v1/customers" \
        --header "Authorization: Bearer sk_test_scaffold" --expect '/v1/customers'
}

stripe_up() {
    [[ -x $(stripe_bin) ]] || die "stripe: stripe-mock not installed"
    mkdir -p "$STATE_DIR/stripe"
    if ! stripe_is_running; then
        require_free_port stripe "$STRIPE_PORT"
        log "stripe: starting stripe-mock on 127.0.0.1:$STRIPE_PORT"
        rm -f "$STATE_DIR/stripe/https.sock"
        # PORT in the environment would make stripe-mock listen there as well: drop it.
        daemon_spawn stripe "$(stripe_signature)" env -u PORT "$(stripe_bin)" \
            -http-addr "127.0.0.1:$STRIPE_PORT" -https-unix "$STATE_DIR/stripe/https.sock"
    fi
    daemon_wait stripe "127.0.0.1:$STRIPE_PORT" stripe_probe
    log "stripe: up on 127.0.0.1:$STRIPE_PORT"
}

stripe_down() { daemon_stop stripe stripe-mock "$(stripe_needle)"; }
stripe_is_up() { [[ -n $(daemon_pid stripe stripe-mock "$(stripe_needle)") ]] && stripe_probe >/dev/null 2>&1; }
stripe_where() { echo "127.0.0.1:$STRIPE_PORT"; }
stripe_env() { printf 'export STRIPE_API_BASE=http://127.0.0.1:%s\n' "$STRIPE_PORT"; }
