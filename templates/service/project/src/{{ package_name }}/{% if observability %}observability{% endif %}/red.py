"""RED metrics of the HTTP server: rate, errors and duration per route template, and in-flight.

Labels stay bounded: `route` is the template the request matched (`/items/{item_id}`), or
`unmatched` (404s of unknown paths, probes of scanners); `method` is one of the standard
methods or `_OTHER`; the status is the code's class on the counter and the code on the
histogram. A duration observed inside a sampled trace carries its trace id as an exemplar
(in the OpenMetrics format), so a slow bucket leads to one of its traces.
"""

import time
from http import HTTPStatus

from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Settings
from .http_tracing import KNOWN_METHODS, UNMATCHED_ROUTE, name_server_span

# OpenTelemetry's advised boundaries for http.server.request.duration, in seconds.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)


class RedMetrics:
    """The app's HTTP server metrics, registered in its own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        # The labelled children, found once per (method, route, status): `labels()` validates
        # and locks at every call. Bounded like the labels themselves.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.requests = Counter(
            "http_server_requests_total",
            "HTTP requests answered, by route template and status class.",
            ("method", "route", "status_class"),
            registry=registry,
        )
        self.duration = Histogram(
            "http_server_request_duration_seconds",
            "Time to answer an HTTP request, from its first byte in to its last byte out.",
            ("method", "route", "status"),
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.active = Gauge(
            "http_server_active_requests",
            "HTTP requests being answered right now.",
            registry=registry,
        )

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in KNOWN_METHODS else "_OTHER"
        children = self._children.get((method, route, status))
        if children is None:
            children = (
                self.requests.labels(method, route, f"{status // 100}xx"),
                self.duration.labels(method, route, str(status)),
            )
            self._children[(method, route, status)] = children
        requests, duration = children
        requests.inc()
        duration.observe(seconds, trace_exemplar())


def trace_exemplar() -> dict[str, str] | None:
    """`{"trace_id": ...}` of the current span when it is sampled (kept by the trace store)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid or not context.trace_flags.sampled:
        return None
    return {"trace_id": trace.format_trace_id(context.trace_id)}


def route_template(scope: Scope) -> str:
    """The path template of the route that answered, set by the router on the scope."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def red_metrics(app: ASGIApp, settings: Settings) -> ASGIApp:
    """The RED middleware as the capability protocol builds middleware."""
    return RedMiddleware(app)


class RedMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        telemetry = getattr(scope["app"].state, "telemetry", None)
        if scope["type"] != "http" or telemetry is None:
            await self.app(scope, receive, send)
            return
        metrics: RedMetrics = telemetry.red
        started = time.perf_counter()
        status = HTTPStatus.INTERNAL_SERVER_ERROR.value

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Routed by now; the server span ends with the last byte, before `finally`.
                name_server_span(scope, route_template(scope))
            await send(message)

        metrics.active.inc()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            metrics.active.dec()
            seconds = time.perf_counter() - started
            metrics.record(scope["method"], route_template(scope), status, seconds)
