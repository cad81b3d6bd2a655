# shellcheck shell=bash
# mock-oauth2-server (navikt), the test OpenID Connect provider, from the Maven Central jars of
# oidc/pom.xml, run as the invoking user. It signs real RS256 tokens for any issuer id in the
# path (OIDC_ISSUER uses `default`), serves discovery and JWKS, and enforces PKCE; logins are
# scripted (interactiveLogin false). Its keys are new at every start.

service_port OIDC_PORT 28080

OIDC_DIR="$STATE_DIR/oidc"
OIDC_MAIN=no.nav.security.mock.oauth2.StandaloneMockOAuth2ServerKt

oidc_libs() { printf '%s/libs\n' "$(maven_dest oidc "$SERVICES_D/oidc/pom.xml")"; }

oidc_packages() {
    command -v java >/dev/null || echo default-jre-headless
    [[ -f $(maven_dest oidc "$SERVICES_D/oidc/pom.xml")/.complete ]] || command -v mvn >/dev/null || echo maven
}
oidc_install() { maven_fetch oidc "$SERVICES_D/oidc/pom.xml"; }

# The marker property ties the JVM's command line to this state dir (for pid checks).
oidc_flag() { printf -- '-Dscaffold.services=%s' "$OIDC_DIR"; }
oidc_needle() { printf -- '%s ' "$(oidc_flag)"; }
oidc_signature() { echo "port $OIDC_PORT, jars $(oidc_libs)"; }
oidc_is_running() { daemon_running oidc java "$(oidc_needle)" "$(oidc_signature)"; }
oidc_probe() {
    probe http "http://127.0.0.1:$OIDC_PORT/default/.well-known/openid-configuration" \
        --expect "\"http://127.0.0.1:$OIDC_PORT/default\""
}

oidc_up() {
    [[ -f $(maven_dest oidc "$SERVICES_D/oidc/pom.xml")/.complete ]] || die "oidc: jars not installed"
    mkdir -p "$OIDC_DIR"
    if ! oidc_is_running; then
        require_free_port oidc "$OIDC_PORT"
        log "oidc: starting mock-oauth2-server on 127.0.0.1:$OIDC_PORT"
        daemon_spawn oidc "$(oidc_signature)" \
            env SERVER_HOSTNAME=127.0.0.1 SERVER_PORT="$OIDC_PORT" \
            JSON_CONFIG='{"interactiveLogin":false,"httpServer":"NettyWrapper"}' \
            java -Xms32m -Xmx96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "$(oidc_flag)" \
            -cp "$(oidc_libs)/*" "$OIDC_MAIN"
    fi
    daemon_wait oidc "127.0.0.1:$OIDC_PORT" oidc_probe
    log "oidc: up on 127.0.0.1:$OIDC_PORT (issuer http://127.0.0.1:$OIDC_PORT/default)"
}

oidc_down() { daemon_stop oidc java "$(oidc_needle)"; }
oidc_is_up() { [[ -n $(daemon_pid oidc java "$(oidc_needle)") ]] && oidc_probe >/dev/null 2>&1; }
oidc_where() { echo "127.0.0.1:$OIDC_PORT"; }
oidc_env() {
    printf 'export OIDC_ISSUER=http://127.0.0.1:%s/default\n' "$OIDC_PORT"
    printf 'export MOCK_OAUTH2_SERVER_URL=http://127.0.0.1:%s\n' "$OIDC_PORT"
}
