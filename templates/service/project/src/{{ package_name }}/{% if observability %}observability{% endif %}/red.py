"""RED metrics of the HTTP server: rate, errors and duration per route template, and in-flight.

Recorded by the HTTP middleware (http_middleware.py) for every request, probes and scrapes too.

Labels stay bounded: `route` is the template the request matched (`/items/{item_id}`), or
`unmatched` (404s of unknown paths, probes of scanners); `method` is one of the standard
methods or `_OTHER`; the status is the code's class on the counter and the code on the
histogram. A duration observed inside a sampled trace carries its trace id as an exemplar
(in the OpenMetrics format), so a slow bucket leads to one of its traces.
"""

from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import Scope

from .http_tracing import KNOWN_METHODS, UNMATCHED_ROUTE

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
        self.in_flight = 0
        """Requests being answered: a plain integer on the event loop, read at each scrape
        (a gauge's `inc`/`dec` would take a lock twice per request)."""
        active = Gauge(
            "http_server_active_requests",
            "HTTP requests being answered right now.",
            registry=registry,
        )
        active.set_function(lambda: self.in_flight)

    def record(
        self,
        method: str,
        route: str,
        status: int,
        seconds: float,
        exemplar: dict[str, str] | None = None,
    ) -> None:
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
        duration.observe(seconds, exemplar)


def trace_exemplar(span: trace.Span) -> dict[str, str] | None:
    """`{"trace_id": ...}` of the request's span when it is sampled (kept by the trace store)."""
    context = span.get_span_context()
    if not context.is_valid or not context.trace_flags.sampled:
        return None
    return {"trace_id": trace.format_trace_id(context.trace_id)}


def route_template(scope: Scope) -> str:
    """The path template of the route that answered, set by the router on the scope."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE
