# shellcheck shell=bash
# moto's server mode: an AWS API emulator (ECS, ECR, IAM, ELBv2, CloudWatch, S3, STS, …) on
# loopback, in its own virtual environment built from moto/requirements.txt. Any access key is
# accepted; AWS-managed IAM policies are loaded (Terraform applies that attach them need them).
# State is in memory: a restart forgets everything (POST /moto-api/reset does too).

service_port MOTO_PORT 25000

MOTO_DIR="$STATE_DIR/moto"

moto_venv() { printf '%s/venv\n' "$(venv_dest moto "$SERVICES_D/moto/requirements.txt")"; }
moto_packages() { command -v python3 >/dev/null || echo python3; }
moto_install() { venv_fetch moto "$SERVICES_D/moto/requirements.txt"; }

moto_needle() { printf -- '-H 127.0.0.1 -p '; }
moto_signature() { echo "port $MOTO_PORT, $(moto_venv)"; }
moto_is_running() { daemon_running moto moto_server "$(moto_needle)" "$(moto_signature)"; }
# STS GetCallerIdentity; moto picks the service from the credential scope (the signature is
# not checked).
moto_probe() {
    probe http "http://127.0.0.1:$MOTO_PORT/" --post 'Action=GetCallerIdentity&Version=2011-06-15' \
        --header 'Content-Type: application/x-www-form-urlencoded' \
        --header 'Authorization: AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0' \
        --expect GetCallerIdentityResult
}

moto_up() {
    [[ -x $(moto_venv)/bin/moto_server ]] || die "moto: not installed"
    mkdir -p "$MOTO_DIR"
    if ! moto_is_running; then
        require_free_port moto "$MOTO_PORT"
        log "moto: starting on 127.0.0.1:$MOTO_PORT"
        daemon_spawn moto "$(moto_signature)" env MOTO_IAM_LOAD_MANAGED_POLICIES=true \
            "$(moto_venv)/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT"
    fi
    daemon_wait moto "127.0.0.1:$MOTO_PORT" moto_probe
    log "moto: up on 127.0.0.1:$MOTO_PORT"
}

moto_down() { daemon_stop moto moto_server "$(moto_needle)"; }
moto_is_up() { [[ -n $(daemon_pid moto moto_server "$(moto_needle)") ]] && moto_probe >/dev/null 2>&1; }
moto_where() { echo "127.0.0.1:$MOTO_PORT"; }
moto_env() {
    printf 'export AWS_ENDPOINT_URL=http://127.0.0.1:%s\n' "$MOTO_PORT"
    printf 'export AWS_ACCESS_KEY_ID=testing\n'
    printf 'export AWS_SECRET_ACCESS_KEY=testing\n'
    printf 'export AWS_DEFAULT_REGION=us-east-1\n'
}
