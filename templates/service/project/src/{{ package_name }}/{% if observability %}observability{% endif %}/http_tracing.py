"""The server span of each request: OpenTelemetry's ASGI instrumentation, outermost.

It continues the caller's trace from its `traceparent` header (W3C Trace Context) or starts
one, and wraps every other middleware, so the request context's access log line, the rate
limiter and the endpoint all run inside it. The span is named `GET` when it starts (the route
is not known before routing; a raw path would make a name per item) and `GET /items/{item_id}`
once the router has matched, with `http.route` set.
"""

from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.util.http import sanitize_method
from starlette.types import ASGIApp, Receive, Scope, Send

from ..config import Settings
from .tracing import APP_TRACERS, acting_for


def tracing(app: ASGIApp, settings: Settings) -> ASGIApp:
    """The tracing middleware as the capability protocol builds middleware."""
    return TracingMiddleware(
        OpenTelemetryMiddleware(
            app,
            excluded_urls=settings.otel_python_excluded_urls,
            default_span_details=method_only,
            tracer=APP_TRACERS.get_tracer(__name__),
            exclude_spans=["receive", "send"],
        )
    )


def method_only(scope: Scope) -> tuple[str, dict[str, Any]]:
    method = sanitize_method(scope.get("method", "").strip())
    return ("HTTP" if method == "_OTHER" else method), {}


def name_server_span(scope: Scope, route: str) -> None:
    """Once routed: the span is named after the route template, as HTTP conventions ask."""
    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(f"{method_only(scope)[0]} {route}")
        span.set_attribute("http.route", route)


class TracingMiddleware:
    """Runs the request for its own app's tracer provider (see `tracing.py`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        telemetry = getattr(scope["app"].state, "telemetry", None)
        with acting_for(telemetry.tracer_provider if telemetry else None):
            await self.app(scope, receive, send)
