"""Observability in the capability protocol.

- middleware, outside the request context (0) so the access log line is written inside the
  request's span and carries its trace id: the server span and RED metrics, in one layer (-20);
- lifespan: the app's tracer provider and metric registry (`app.state.telemetry`), the
  standard instrumentations, and the metrics port when METRICS_PORT is set; undone on stop;
- routers: GET /metrics; processes: the event-loop lag probe; metrics: its own families;
- extension points: trace ids on log lines, trace context in message headers, background work
  kept out of traces.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from opentelemetry.instrumentation.utils import suppress_instrumentation
from prometheus_client import start_http_server

from ..capability import Capability, Middleware, Process
from ..extensions import Extensions
from .http_middleware import http_telemetry
from .instrumentation import instrument_libraries, trace_engine, uninstrument_libraries
from .propagation import continue_trace, trace_headers, trace_log_fields
from .router import router
from .runtime import database_engine, measure_event_loop_lag, runtime_metrics
from .telemetry import Telemetry, build_registry
from .tracing import build_provider, start_serving, stop_serving

HTTP_TELEMETRY_POSITION = -20


@asynccontextmanager
async def telemetry(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings
    registry, red = build_registry(app)
    provider = build_provider(settings)
    app.state.telemetry = state = Telemetry(
        registry=registry,
        red=red,
        tracer_provider=provider,
        sampling_ratio=settings.otel_traces_sampler_arg,
    )
    async with AsyncExitStack() as stack:
        stack.push_async_callback(state.close)
        if provider is not None:
            start_serving(provider)
            stack.callback(stop_serving, provider)
            instrument_libraries()
            stack.callback(uninstrument_libraries)
            for engine in (database_engine(app), *app.state.extensions.engines):
                trace_engine(engine)
        if settings.metrics_port is not None:
            state.metrics_server = start_http_server(
                settings.metrics_port, addr=settings.metrics_host, registry=registry
            )
        yield


def extend(extensions: Extensions) -> None:
    extensions.log_fields.append(trace_log_fields)
    extensions.message_headers.append(trace_headers)
    extensions.message_received.append(continue_trace)
    extensions.untraced.append(suppress_instrumentation)


CAPABILITY = Capability(
    name="observability",
    lifespan=telemetry,
    routers=(router,),
    middleware=(Middleware(HTTP_TELEMETRY_POSITION, http_telemetry),),
    processes=(Process("event-loop-lag", measure_event_loop_lag, in_app=True),),
    metrics=runtime_metrics,
    extend=extend,
)
