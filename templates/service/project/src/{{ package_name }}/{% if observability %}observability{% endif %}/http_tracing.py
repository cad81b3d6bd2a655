"""The server span of each request, following OpenTelemetry's HTTP conventions.

The span continues the caller's trace from its `traceparent` header (W3C Trace Context, or
whatever OTEL_PROPAGATORS names) or starts one. The HTTP middleware (http_middleware.py) starts
it outside every other middleware, so the request context's access log line, the rate limiter
and the endpoint all run inside it. It is named `GET` when it starts (the route is not known
before routing; a raw path would make a name per item) and `GET /items/{item_id}` once the
router has matched, with `http.route`.

Requests to OTEL_PYTHON_EXCLUDED_URLS (probes, the scrape) make no span at all, nor do the SQL
and Redis calls they cause: instrumentation is suppressed for them, so a readiness probe's
`SELECT 1` does not become a trace of its own every few seconds.

Why not OpenTelemetry's ASGI middleware (`opentelemetry-instrumentation-asgi`): measured on
the same machine (a middleware around a trivial app, benchmarks/observability_overhead.py for
the whole service), it costs about four times what this one does, and most of it even for
requests the sampler drops (it collects every attribute first, and wraps `receive` and `send`
in internal spans of their own). This sets the same stable attributes, and only on spans that
are recorded. FastAPI's own telemetry stays off: it turns itself on only when a global tracer
provider is set, and this service sets none (see tracing.py).
"""

import re
from http import HTTPStatus

from opentelemetry import context, propagate, trace
from opentelemetry.propagators.textmap import Getter
from starlette.types import Scope

from .new_traces import NewTraces

UNMATCHED_ROUTE = "unmatched"
KNOWN_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE"}
)


class _ScopeHeaders(Getter[Scope]):
    """Reads propagation headers (traceparent, tracestate, baggage) from an ASGI scope."""

    def get(self, carrier: Scope, key: str) -> list[str] | None:
        wanted = key.encode("latin-1")
        found = [v.decode("latin-1") for k, v in carrier["headers"] if k == wanted]
        return found or None

    def keys(self, carrier: Scope) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier["headers"]]


_HEADERS = _ScopeHeaders()
_PROPAGATION_HEADERS = frozenset((b"traceparent", b"tracestate", b"baggage"))


def untraced_paths(setting: str) -> re.Pattern[str] | None:
    """OTEL_PYTHON_EXCLUDED_URLS: comma-separated regular expressions, searched in the path."""
    patterns = [pattern.strip() for pattern in setting.split(",") if pattern.strip()]
    return re.compile("|".join(patterns)) if patterns else None


def span_method(scope: Scope) -> str:
    method: str = scope["method"]
    return method if method in KNOWN_METHODS else "HTTP"


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


def start_server_span(
    scope: Scope, tracer: trace.Tracer, new_traces: NewTraces | None = None
) -> tuple[trace.Span, context.Context]:
    """The request's server span, continuing the caller's trace when it names one, and the
    context to run the request in (the caller's, baggage included, with the span)."""
    # Most requests carry no trace context: skip the propagators' parsing for them. (A plain
    # loop: on Python 3.11 a generator is a function call of its own, resumed per header.)
    named = False
    for name, _ in scope["headers"]:
        if name in _PROPAGATION_HEADERS:
            named = True
            break
    parent = propagate.extract(scope, getter=_HEADERS) if named else context.Context()
    # The attributes go to the SDK at the span's start (one validation pass, no lock), and are
    # built only for a span that may be recorded: not under a caller's trace it dropped.
    if not named and new_traces is not None:
        span = new_traces.start_span(
            span_method(scope), trace.SpanKind.SERVER, lambda: request_attributes(scope)
        )
    else:
        caller = trace.get_current_span(parent).get_span_context()
        dropped = caller.is_valid and not caller.trace_flags.sampled
        span = tracer.start_span(
            span_method(scope),
            context=parent,
            kind=trace.SpanKind.SERVER,
            attributes=None if dropped else request_attributes(scope),
        )
    return span, trace.set_span_in_context(span, parent)


def response_started(span: trace.Span, scope: Scope, route: str, status: int) -> None:
    """Once routed and answered (a recording span): the route template names the span, as
    HTTP conventions ask (a request no route matched keeps the method alone); a 5xx is an
    error."""
    # One `set_attributes`: the SDK takes its span lock and validates once per call.
    attributes: dict[str, str | int] = {"http.response.status_code": status}
    if route != UNMATCHED_ROUTE:
        span.update_name(f"{span_method(scope)} {route}")
        attributes["http.route"] = route
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        attributes["error.type"] = str(status)
        span.set_status(trace.StatusCode.ERROR)
    span.set_attributes(attributes)


def request_failed(span: trace.Span, error: BaseException) -> None:
    """An exception escaped the app (a recording span)."""
    span.record_exception(error)
    span.set_attribute("error.type", type(error).__qualname__)
    span.set_status(trace.StatusCode.ERROR)
