"""Observability: RED metrics on /metrics, OpenTelemetry traces, trace ids on every log line."""
