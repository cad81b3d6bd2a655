    # Observability: /metrics on a port the load balancer never sees, scraped by the ADOT
    # sidecar (observability.tf); traces to the sidecar's OTLP receiver.
    [
      { name = "METRICS_PORT", value = tostring(local.metrics_port) },
      { name = "METRICS_HOST", value = "127.0.0.1" },
      { name = "SERVICE_COMMIT", value = var.image_tag },
      { name = "OTEL_EXPORTER_OTLP_ENDPOINT", value = "http://127.0.0.1:4318" },
      { name = "OTEL_TRACES_SAMPLER_ARG", value = tostring(var.trace_sampling_ratio) },
    ],
