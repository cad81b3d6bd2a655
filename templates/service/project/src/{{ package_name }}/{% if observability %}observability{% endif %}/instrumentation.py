"""The standard OpenTelemetry instrumentations, applied to what this service has.

Client libraries (Redis, httpx, a broker client) are patched process-wide by their
instrumentors: once, when the first app starts, and undone when the last app stops, so apps
built one after another (tests, workers) never stack wrappers. They all trace through
`APP_TRACERS`, which sends each span to its own app. The database engine belongs to one app:
its SQL statements are traced by listeners on that engine alone.
"""

import importlib
import logging
from importlib.util import find_spec
from typing import Any, Protocol

from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from sqlalchemy.ext.asyncio import AsyncEngine

from .tracing import APP_TRACERS, unsampled_parent

logger = logging.getLogger(__name__)

# library -> its instrumentor ("module:class"); each is applied when both are installed, so a
# capability whose client has one (a broker's) adds the instrumentation package and a line here.
LIBRARY_INSTRUMENTORS = {
    # Redis: OpenTelemetry's, minus its work under a dropped trace (redis_spans.py).
    "redis": f"{__package__}.redis_spans:RedisCommandSpans",
    "httpx": "opentelemetry.instrumentation.httpx:HTTPXClientInstrumentor",
    "aiokafka": "opentelemetry.instrumentation.aiokafka:AIOKafkaInstrumentor",
    "aio_pika": "opentelemetry.instrumentation.aio_pika:AioPikaInstrumentor",
}


class Instrumentor(Protocol):
    """What this module uses of OpenTelemetry's `BaseInstrumentor`."""

    @property
    def is_instrumented_by_opentelemetry(self) -> bool: ...
    def instrument(self, **kwargs: Any) -> Any: ...
    def uninstrument(self, **kwargs: Any) -> Any: ...


_users = 0
_applied: list[Instrumentor] = []


def available_instrumentors() -> list[Instrumentor]:
    found: list[Instrumentor] = []
    for library, target in LIBRARY_INSTRUMENTORS.items():
        module_name, _, class_name = target.partition(":")
        if find_spec(library) is None or find_spec(module_name) is None:
            continue
        instrumentor: Instrumentor = getattr(importlib.import_module(module_name), class_name)()
        found.append(instrumentor)
    return found


def instrument_libraries() -> None:
    """Called by each app's lifespan on start; only the first one patches anything."""
    global _users  # noqa: PLW0603 (process-wide by nature: the patches are)
    _users += 1
    if _users > 1:
        return
    for instrumentor in available_instrumentors():
        if instrumentor.is_instrumented_by_opentelemetry:
            continue  # someone else's (opentelemetry-instrument): theirs to undo
        instrumentor.instrument(tracer_provider=APP_TRACERS)
        _applied.append(instrumentor)


def uninstrument_libraries() -> None:
    """Called by each app's lifespan on stop; the last one removes the patches."""
    global _users  # noqa: PLW0603
    _users = max(0, _users - 1)
    if _users:
        return
    while _applied:
        _applied.pop().uninstrument()


def instrumented_library_count() -> int:
    return len(_applied)


# The pool events EngineTracer listens to only for its connection-usage metric, which this
# service does not export (it gets a no-op counter: see `trace_engine`).
_CONNECTION_USAGE_EVENTS = frozenset({"connect", "close", "checkin", "checkout"})


class StatementSpans(EngineTracer):
    """The instrumentor's engine tracer, without the work that records nothing.

    Under a trace the sampler dropped (most requests), the instrumentor would still parse the
    engine's URL and the statement for the span's name and attributes, then make the current
    span current again: for a span that is the dropped parent itself (see tracing.py). Such a
    statement gets no span at all here, as it gets none recorded there. And the pool's
    checkout and checkin, once per request each, would build attributes for a no-op counter.
    """

    @classmethod
    def _register_event_listener(
        cls, target: Any, identifier: str, func: Any, *args: Any, **kwargs: Any
    ) -> None:
        if identifier not in _CONNECTION_USAGE_EVENTS:
            super()._register_event_listener(target, identifier, func, *args, **kwargs)  # type: ignore[no-untyped-call]

    def _before_cur_exec(  # noqa: PLR0917 - SQLAlchemy's before_cursor_execute arguments
        self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> tuple[str, Any]:
        if unsampled_parent() is not None:
            return statement, params
        found: tuple[str, Any] = super()._before_cur_exec(  # type: ignore[no-untyped-call]
            conn, cursor, statement, params, context, many
        )
        return found


def trace_engine(engine: AsyncEngine) -> None:
    """Spans for the SQL statements of this engine (the instrumentor's own per-engine tracer).

    Its listeners live on the engine, so they go with it when the app disposes of it.
    """
    tracer = APP_TRACERS.get_tracer("opentelemetry.instrumentation.sqlalchemy")
    connections = NoOpMeterProvider().get_meter(__name__).create_up_down_counter("unused")
    StatementSpans(tracer, engine.sync_engine, connections)  # type: ignore[no-untyped-call]
