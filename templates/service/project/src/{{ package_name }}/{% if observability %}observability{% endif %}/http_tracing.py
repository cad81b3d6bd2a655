"""The server span of each request, outermost, following OpenTelemetry's HTTP conventions.

It continues the caller's trace from its `traceparent` header (W3C Trace Context, or whatever
OTEL_PROPAGATORS names) or starts one, and wraps every other middleware, so the request
context's access log line, the rate limiter and the endpoint all run inside it. The span is
named `GET` when it starts (the route is not known before routing; a raw path would make a
name per item) and `GET /items/{item_id}` once the router has matched, with `http.route`.

Requests to OTEL_PYTHON_EXCLUDED_URLS (probes, the scrape) make no span at all, nor do the SQL
and Redis calls they cause: instrumentation is suppressed for them, so a readiness probe's
`SELECT 1` does not become a trace of its own every few seconds.

Why not OpenTelemetry's ASGI middleware (`opentelemetry-instrumentation-asgi`): measured on
the same machine (a middleware around a trivial app, benchmarks/observability_overhead.py for
the whole service), it costs about four times what this one does, and most of it even for
requests the sampler drops (it collects every attribute first). This middleware sets the
same stable attributes, and only on spans that are recorded. FastAPI's own telemetry stays
off: it turns itself on only when a global tracer provider is set, and this service sets none
(see tracing.py).
"""

import re
from collections.abc import Iterable
from http import HTTPStatus

from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.propagators.textmap import Getter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Settings
from .tracing import APP_TRACERS, acting_for

UNMATCHED_ROUTE = "unmatched"
KNOWN_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE"}
)
_tracer = APP_TRACERS.get_tracer(__name__)


class _ScopeHeaders(Getter[Scope]):
    """Reads propagation headers (traceparent, tracestate, baggage) from an ASGI scope."""

    def get(self, carrier: Scope, key: str) -> list[str] | None:
        wanted = key.encode("latin-1")
        found = [v.decode("latin-1") for k, v in carrier["headers"] if k == wanted]
        return found or None

    def keys(self, carrier: Scope) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier["headers"]]


_HEADERS = _ScopeHeaders()
_PROPAGATION_HEADERS = (b"traceparent", b"tracestate", b"baggage")


def tracing(app: ASGIApp, settings: Settings) -> ASGIApp:
    """The tracing middleware as the capability protocol builds middleware."""
    return TracingMiddleware(app, untraced_paths(settings.otel_python_excluded_urls))


def untraced_paths(setting: str) -> re.Pattern[str] | None:
    """OTEL_PYTHON_EXCLUDED_URLS: comma-separated regular expressions, searched in the path."""
    patterns = [pattern.strip() for pattern in setting.split(",") if pattern.strip()]
    return re.compile("|".join(patterns)) if patterns else None


def span_method(scope: Scope) -> str:
    method: str = scope["method"]
    return method if method in KNOWN_METHODS else "HTTP"


def name_server_span(scope: Scope, route: str) -> None:
    """Once routed: the span is named after the route template, as HTTP conventions ask
    (a request no route matched keeps the method alone)."""
    span = trace.get_current_span()
    if span.is_recording() and route != UNMATCHED_ROUTE:
        span.update_name(f"{span_method(scope)} {route}")
        span.set_attribute("http.route", route)


def request_attributes(scope: Scope) -> dict[str, str | int]:
    method: str = scope["method"]
    attributes: dict[str, str | int] = {
        "http.request.method": method if method in KNOWN_METHODS else "_OTHER",
        "url.path": scope["path"],
        "url.scheme": scope.get("scheme", "http"),
        "network.protocol.version": scope.get("http_version", "1.1"),
    }
    if method not in KNOWN_METHODS:
        attributes["http.request.method_original"] = method
    if scope.get("client"):
        attributes["client.address"] = scope["client"][0]
    for name, value in scope["headers"]:
        if name == b"host":
            host, _, port = value.decode("latin-1").rpartition(":")
            attributes["server.address"] = host if port.isdigit() else value.decode("latin-1")
            if port.isdigit():
                attributes["server.port"] = int(port)
        elif name == b"user-agent":
            attributes["user_agent.original"] = value.decode("latin-1")
    return attributes


def _has_propagation_headers(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    return any(name in _PROPAGATION_HEADERS for name, _ in headers)


class TracingMiddleware:
    """Each request traced for its own app's tracer provider (see `tracing.py`)."""

    def __init__(self, app: ASGIApp, untraced: re.Pattern[str] | None) -> None:
        self.app = app
        self.untraced = untraced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.untraced is not None and self.untraced.search(scope["path"]):
            with suppress_instrumentation():
                await self.app(scope, receive, send)
            return
        telemetry = getattr(scope["app"].state, "telemetry", None)
        with acting_for(telemetry.tracer_provider if telemetry else None):
            await self._traced(scope, receive, send)

    async def _traced(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Most requests carry no trace context: skip the propagators' parsing for them.
        parent = (
            propagate.extract(scope, getter=_HEADERS)
            if _has_propagation_headers(scope["headers"])
            else context.Context()
        )
        span = _tracer.start_span(span_method(scope), context=parent, kind=trace.SpanKind.SERVER)
        recording = span.is_recording()
        if recording:
            span.set_attributes(request_attributes(scope))

        async def send_with_status(message: Message) -> None:
            if recording and message["type"] == "http.response.start":
                status: int = message["status"]
                span.set_attribute("http.response.status_code", status)
                if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
                    span.set_attribute("error.type", str(status))
                    span.set_status(trace.StatusCode.ERROR)
            await send(message)

        token = context.attach(trace.set_span_in_context(span, parent))
        try:
            await self.app(scope, receive, send_with_status)
        except BaseException as error:
            if recording:
                span.record_exception(error)
                span.set_attribute("error.type", type(error).__qualname__)
                span.set_status(trace.StatusCode.ERROR)
            raise
        finally:
            context.detach(token)
            span.end()
