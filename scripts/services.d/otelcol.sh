# shellcheck shell=bash
# OpenTelemetry Collector, built once with the official builder (ocb) from otelcol/manifest.yaml:
# an OTLP receiver on loopback (HTTP, the endpoint tests and generated services export to; and
# gRPC) and a file exporter that appends what it receives as OTLP JSON, one request per line, to
# spans.jsonl (traces), metrics.jsonl and logs.jsonl in its state folder. Tests read the spans
# from OTEL_COLLECTOR_SPANS_FILE. Chosen over Jaeger: it builds in a few minutes where Jaeger
# takes about ten, and starts in a fraction of a second.

service_port OTEL_PORT 24318
service_port OTEL_GRPC_PORT 24317

OTELCOL_BUILDER_VERSION=v0.161.0
OTELCOL_DIR="$STATE_DIR/otelcol"

otelcol_dest() {
    printf '%s/otelcol/%s-%s\n' "$CACHE_DIR" "$OTELCOL_BUILDER_VERSION" "$(files_key "$SERVICES_D/otelcol/manifest.yaml")"
}
otelcol_bin() { printf '%s/dist/otelcol\n' "$(otelcol_dest)"; }
otelcol_packages() { :; }

otelcol_install() {
    go_fetch otelcol-builder go.opentelemetry.io/collector/cmd/builder "$OTELCOL_BUILDER_VERSION"
    cache_build otelcol "$(otelcol_dest)" "building the collector with ocb $OTELCOL_BUILDER_VERSION" _otelcol_build
}

_otelcol_build() {
    sed "s|@OUTPUT_PATH@|$BUILD_DIR/dist|" "$SERVICES_D/otelcol/manifest.yaml" >"$BUILD_DIR/manifest.yaml"
    "$(go_dest otelcol-builder "$OTELCOL_BUILDER_VERSION")/bin/builder" --config "$BUILD_DIR/manifest.yaml"
    # Keep the binary, drop the generated sources.
    find "$BUILD_DIR/dist" -mindepth 1 -maxdepth 1 ! -name otelcol -exec rm -rf {} +
}

otelcol_write_config() {
    mkdir -p "$OTELCOL_DIR"
    cat >"$OTELCOL_DIR/config.yaml" <<CONFIG
# Written by scripts/services on every start; edits are overwritten.
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:$OTEL_PORT
      grpc:
        endpoint: 127.0.0.1:$OTEL_GRPC_PORT
exporters:
  file/traces:
    path: $OTELCOL_DIR/spans.jsonl
    flush_interval: 100ms
  file/metrics:
    path: $OTELCOL_DIR/metrics.jsonl
    flush_interval: 100ms
  file/logs:
    path: $OTELCOL_DIR/logs.jsonl
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file/traces]
    metrics:
      receivers: [otlp]
      exporters: [file/metrics]
    logs:
      receivers: [otlp]
      exporters: [file/logs]
CONFIG
}

otelcol_needle() { printf -- '--config %s/config.yaml' "$OTELCOL_DIR"; }
otelcol_signature() { echo "ports $OTEL_PORT $OTEL_GRPC_PORT, $(otelcol_bin)"; }
otelcol_is_running() { daemon_running otelcol otelcol "$(otelcol_needle)" "$(otelcol_signature)"; }
otelcol_probe() {
    probe http "http://127.0.0.1:$OTEL_PORT/v1/traces" --post '{"resourceSpans":[]}' \
        --header 'Content-Type: application/json' --expect '{'
}

otelcol_up() {
    [[ -x $(otelcol_bin) ]] || die "otelcol: collector not built"
    if ! otelcol_is_running; then
        otelcol_write_config
        require_free_port otelcol "$OTEL_PORT" "$OTEL_GRPC_PORT"
        log "otelcol: starting on 127.0.0.1:$OTEL_PORT (OTLP/HTTP) and 127.0.0.1:$OTEL_GRPC_PORT (OTLP/gRPC)"
        daemon_spawn otelcol "$(otelcol_signature)" "$(otelcol_bin)" --config "$OTELCOL_DIR/config.yaml"
    fi
    daemon_wait otelcol "127.0.0.1:$OTEL_PORT" otelcol_probe
    log "otelcol: up on 127.0.0.1:$OTEL_PORT (spans in $OTELCOL_DIR/spans.jsonl)"
}

otelcol_down() { daemon_stop otelcol otelcol "$(otelcol_needle)"; }
otelcol_is_up() { [[ -n $(daemon_pid otelcol otelcol "$(otelcol_needle)") ]] && otelcol_probe >/dev/null 2>&1; }
otelcol_where() { echo "127.0.0.1:$OTEL_PORT (OTLP/HTTP), 127.0.0.1:$OTEL_GRPC_PORT (OTLP/gRPC)"; }
otelcol_env() {
    printf 'export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%s\n' "$OTEL_PORT"
    printf 'export OTEL_COLLECTOR_GRPC_ENDPOINT=http://127.0.0.1:%s\n' "$OTEL_GRPC_PORT"
    printf 'export OTEL_COLLECTOR_SPANS_FILE=%s/spans.jsonl\n' "$OTELCOL_DIR"
    printf 'export OTEL_COLLECTOR_METRICS_FILE=%s/metrics.jsonl\n' "$OTELCOL_DIR"
    printf 'export OTEL_COLLECTOR_LOGS_FILE=%s/logs.jsonl\n' "$OTELCOL_DIR"
}
