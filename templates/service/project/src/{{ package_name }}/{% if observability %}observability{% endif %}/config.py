"""Observability's settings section (`config.Settings` inherits it).

Tracing is configured by the OpenTelemetry SDK's standard variables, read here so a wrong value
stops the service at start-up and a local `.env` works like the environment. The exporter reads
the other `OTEL_EXPORTER_OTLP_*` variables (headers, timeout, compression, certificates) itself.
"""

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

# Probes and the scrape are called every few seconds by machines: they make no traces.
DEFAULT_UNTRACED_URLS = "/health/,/metrics"


class Settings(BaseSettings):
    # Metrics: GET /metrics on the app's port, or on a port of its own (not behind the ALB)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "0.0.0.0"  # noqa: S104 (inside the container or task, for the scraper)
    service_commit: str = "unknown"
    """The commit the image was built from (CD sets it): a label of `<service>_build_info`."""

    # Traces (OpenTelemetry's own variable names)
    otel_sdk_disabled: bool = False
    otel_service_name: str | None = None
    """Defaults to SERVICE_NAME."""
    otel_traces_exporter: Literal["otlp", "console", "none"] = "otlp"
    otel_exporter_otlp_endpoint: str = "http://localhost:4318"
    """The collector's OTLP/HTTP base URL; traces go to `<endpoint>/v1/traces`."""
    otel_exporter_otlp_traces_endpoint: str | None = None
    """The full URL for traces, when it is not `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`."""
    otel_traces_sampler_arg: float = Field(default=0.1, ge=0, le=1)
    """The ratio of new traces sampled; a request whose caller sampled it is always kept
    (parent-based), so a trace is never cut in half between services. 10% by default: a
    recorded span costs tens of microseconds of CPU, a request of this service a few hundred
    (benchmarks/observability_overhead.py in scaffold measures both); compose samples all."""
    otel_python_excluded_urls: str = Field(default=DEFAULT_UNTRACED_URLS, repr=False)
    """Comma-separated regular expressions of URLs that make no server span."""
