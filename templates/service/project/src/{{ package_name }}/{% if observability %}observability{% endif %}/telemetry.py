"""One app's telemetry: its metric registry, RED instruments and tracer provider.

Built by the capability's lifespan and kept on `app.state.telemetry`; the middleware and the
/metrics endpoint find it there. Every app has its own, so the apps that tests build one after
another never share a registry, and no metric is registered twice.
"""

import asyncio
import threading
from dataclasses import dataclass, field
from typing import cast
from wsgiref.simple_server import WSGIServer

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from .exporter import CapabilityCollector
from .new_traces import NewTraces
from .red import RedMetrics

SERVER_SPANS_SCOPE = __name__.rpartition(".")[0] + ".http_middleware"


@dataclass(slots=True)
class Telemetry:
    registry: CollectorRegistry
    red: RedMetrics
    tracer_provider: TracerProvider | None
    sampling_ratio: float = 1.0
    """Of the traces this app starts: the ratio its provider's sampler was built with."""
    server_tracer: trace.Tracer = field(init=False)
    """The tracer of the HTTP server spans: the provider's own (no tracing without one)."""
    new_traces: NewTraces | None = field(init=False)
    """The server spans of requests that name no trace (see new_traces.py)."""
    event_loop_lag_seconds: float = 0.0
    """The longest delay of a timer in the last measurement interval (see runtime.py)."""
    metrics_server: tuple[WSGIServer, threading.Thread] | None = None
    _closed: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        provider = self.tracer_provider
        if provider is None:
            self.server_tracer, self.new_traces = trace.NoOpTracer(), None
        else:
            self.server_tracer = provider.get_tracer(SERVER_SPANS_SCOPE)
            self.new_traces = NewTraces(provider, self.server_tracer, self.sampling_ratio)

    async def close(self) -> None:
        """Stop the metrics port and flush the spans still buffered; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self.metrics_server is not None:
            server, thread = self.metrics_server
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        if self.tracer_provider is not None:
            # Blocking (a last export to the collector): off the event loop.
            await asyncio.to_thread(self.tracer_provider.shutdown)


def build_registry(app: FastAPI) -> tuple[CollectorRegistry, RedMetrics]:
    """HTTP RED metrics, process and runtime metrics, and every capability's families."""
    # No `_created` series beside each counter: Prometheus would store them as series of
    # their own. (A setting of prometheus_client, for the whole process.)
    disable_created_metrics()  # type: ignore[no-untyped-call]
    registry = CollectorRegistry(auto_describe=True)
    red = RedMetrics(registry)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    registry.register(CapabilityCollector(app, app.state.capabilities))
    return registry, red


def telemetry_of(app: FastAPI) -> Telemetry:
    return cast(Telemetry, app.state.telemetry)
