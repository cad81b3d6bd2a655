"""Tracer providers: one per app, behind one process-wide provider that every instrumentation uses.

Each app owns an SDK `TracerProvider` (its resource, sampler and exporter come from its own
settings) for as long as its lifespan runs. Instrumentations are given `APP_TRACERS` instead,
which hands each span to the provider of the app it belongs to: the app serving the current
request or running the current lifespan (a context variable), else the app started last. So a
process that builds many apps (tests, workers) never stacks instrumentation, and an app's spans
never reach another app's exporter.

No global tracer provider is set, and FastAPI's own telemetry is off (`main.py`): either would
trace every request a second time. A library that should trace through this service's providers
is given `APP_TRACERS`, as the instrumentations are.
"""

import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar, Token
from typing import Any, Literal, Protocol
from uuid import uuid4

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.util.types import Attributes

from .new_traces import ChosenTraceIds

logger = logging.getLogger(__name__)


class TracingSettings(Protocol):
    """What tracing reads: the service's identity (`CoreSettings`) and OpenTelemetry's section;
    the app's `Settings` has both, and so has a class composed of just those two."""

    @property
    def service_name(self) -> str: ...
    @property
    def service_version(self) -> str: ...
    @property
    def environment(self) -> str: ...
    @property
    def otel_sdk_disabled(self) -> bool: ...
    @property
    def otel_service_name(self) -> str | None: ...
    @property
    def otel_traces_exporter(self) -> Literal["otlp", "console", "none"]: ...
    @property
    def otel_exporter_otlp_endpoint(self) -> str: ...
    @property
    def otel_exporter_otlp_traces_endpoint(self) -> str | None: ...
    @property
    def otel_traces_sampler_arg(self) -> float: ...


_current: ContextVar[TracerProvider | None] = ContextVar("tracer_provider", default=None)
_started: list[TracerProvider] = []


def current_provider() -> TracerProvider | None:
    """The provider of the app this code runs for, or None when no app traces.

    A provider whose app has stopped is never returned, even where a context still names it.
    """
    provider = _current.get()
    if provider is not None and provider in _started:
        return provider
    return _started[-1] if _started else None


def unsampled_parent() -> trace.Span | None:
    """The current span when it is a trace the sampler dropped, else None.

    The sampler is parent-based (see `build_provider`): a span whose parent was dropped is
    dropped too. Most requests are not sampled, and every SQL statement and Redis command of
    theirs would otherwise go through the SDK (sampler, ids, context managers) only to be
    dropped: tens of microseconds each on a small CPU (scaffold's benchmarks measure it).
    """
    span = trace.get_current_span()
    if span.is_recording():
        return None
    span_context = span.get_span_context()
    if not span_context.is_valid or span_context.trace_flags.sampled:
        return None
    return span


class _AppTracer(trace.ProxyTracer):
    """A tracer that finds its app's provider at each span, not once.

    Under a dropped trace it hands out the current, non-recording span itself, as the
    OpenTelemetry API's no-op tracer does: nothing is recorded, and an outgoing request or
    message still carries the trace's context (not sampled), so the next service drops it
    too rather than starting a trace cut in half.
    """

    _for: tuple[TracerProvider, trace.Tracer] | None = None

    def start_span(
        self, name: str, context: Context | None = None, *args: Any, **kwargs: Any
    ) -> trace.Span:
        if context is None and (parent := unsampled_parent()) is not None:
            return parent
        return self._tracer.start_span(name, context, *args, **kwargs)

    # A plain context manager rather than the API's decorator-capable one: instrumentations
    # use it in `with` blocks, and this path exists to cost next to nothing.
    def start_as_current_span(  # type: ignore[override]
        self,
        name: str,
        context: Context | None = None,
        kind: trace.SpanKind = trace.SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> "AbstractContextManager[trace.Span]":
        if context is None and (parent := unsampled_parent()) is not None:
            return nullcontext(parent)
        return self._tracer.start_as_current_span(
            name, context, kind, attributes, links, *args, **kwargs
        )

    @property
    def _tracer(self) -> trace.Tracer:
        provider = current_provider()
        if provider is None:
            return self._noop_tracer
        cached = self._for
        if cached is not None and cached[0] is provider:
            return cached[1]
        # The SDK's get_tracer is slow (a warnings filter, a lock): once per provider.
        tracer = provider.get_tracer(
            self._instrumenting_module_name,
            self._instrumenting_library_version,
            self._schema_url,
            self._attributes,
        )
        self._for = (provider, tracer)
        return tracer


class AppTracerProvider(trace.TracerProvider):
    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes | None = None,
    ) -> trace.Tracer:
        return _AppTracer(
            instrumenting_module_name, instrumenting_library_version, schema_url, attributes
        )


APP_TRACERS = AppTracerProvider()


def build_provider(settings: TracingSettings) -> TracerProvider | None:
    """The app's provider, from its settings; None when OTEL_SDK_DISABLED is set."""
    if settings.otel_sdk_disabled:
        return None
    resource = Resource.create(
        {
            "service.name": settings.otel_service_name or settings.service_name,
            "service.version": settings.service_version,
            "service.instance.id": str(uuid4()),
            "deployment.environment.name": settings.environment,
        }
    )
    provider = TracerProvider(
        resource=resource,
        sampler=ParentBased(TraceIdRatioBased(settings.otel_traces_sampler_arg)),
        id_generator=ChosenTraceIds(),  # see new_traces.py
        shutdown_on_exit=False,  # the app's lifespan shuts it down; no atexit hook per app
    )
    exporter = build_exporter(settings)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def build_exporter(settings: TracingSettings) -> SpanExporter | None:
    if settings.otel_traces_exporter == "none":
        return None
    if settings.otel_traces_exporter == "console":
        return ConsoleSpanExporter()
    # Imported here: the OTLP exporter pulls in protobuf and requests, unused otherwise.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )

    endpoint = settings.otel_exporter_otlp_traces_endpoint or (
        settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    )
    return OTLPSpanExporter(endpoint=endpoint)


def start_serving(provider: TracerProvider) -> None:
    """From the app's lifespan: its spans go to `provider`, from this task and those it starts."""
    _started.append(provider)
    _current.set(provider)


def stop_serving(provider: TracerProvider) -> None:
    """No span goes to `provider` any more (contexts that still name it fall back)."""
    if provider in _started:
        _started.remove(provider)


def act_for(provider: TracerProvider | None) -> Token[TracerProvider | None]:
    """Around one request (undone by `stop_acting`): its spans go to its app's provider,
    whichever app started last."""
    return _current.set(provider)


def stop_acting(token: Token[TracerProvider | None]) -> None:
    _current.reset(token)
