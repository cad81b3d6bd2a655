"""One middleware for the telemetry of each request: its server span and its RED metrics.

Outside every other middleware (see capability.py), so the access log line, the rate limiter
and the endpoint run inside the span, and the duration covers all of them. One layer rather
than two: every ASGI layer adds a coroutine and a wrapped `send` to each request, and the
span is at hand for the exemplar and the route name. Requests to OTEL_PYTHON_EXCLUDED_URLS
(probes, the scrape) are counted but make no span, and instrumentation is suppressed for them.
"""

import re
import time
from http import HTTPStatus

from opentelemetry import context, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Settings
from .http_tracing import request_failed, response_started, start_server_span, untraced_paths
from .red import RedMetrics, route_template, trace_exemplar
from .tracing import APP_TRACERS, act_for, stop_acting

_tracer = APP_TRACERS.get_tracer(__name__)  # for an app whose lifespan has not run
_SERVER_ERROR = HTTPStatus.INTERNAL_SERVER_ERROR.value


def http_telemetry(app: ASGIApp, settings: Settings) -> ASGIApp:
    """The middleware as the capability protocol builds middleware."""
    return HttpTelemetryMiddleware(app, untraced_paths(settings.otel_python_excluded_urls))


class HttpTelemetryMiddleware:
    """Each request traced for its own app's tracer provider (see tracing.py), and measured
    in its own app's registry (see telemetry.py)."""

    def __init__(self, app: ASGIApp, untraced: re.Pattern[str] | None) -> None:
        self.app = app
        self.untraced = untraced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        telemetry = getattr(scope["app"].state, "telemetry", None)
        red: RedMetrics | None = telemetry.red if telemetry is not None else None
        if self.untraced is not None and self.untraced.search(scope["path"]):
            with suppress_instrumentation():
                await self._answer(scope, receive, send, red, trace.INVALID_SPAN)
            return
        if telemetry is None:
            acting, tracer, new_traces = act_for(None), _tracer, None
        else:
            acting, tracer = act_for(telemetry.tracer_provider), telemetry.server_tracer
            new_traces = telemetry.new_traces
        try:
            span, request_context = start_server_span(scope, tracer, new_traces)
            token = context.attach(request_context)
            try:
                await self._answer(scope, receive, send, red, span)
            finally:
                context.detach(token)
                span.end()
        finally:
            stop_acting(acting)

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        red: RedMetrics | None,
        span: trace.Span,
    ) -> None:
        recording = span.is_recording()
        status = _SERVER_ERROR
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if recording:  # routed by now
                    response_started(span, scope, route_template(scope), status)
            await send(message)

        if red is not None:
            red.in_flight += 1
        try:
            await self.app(scope, receive, send_with_status)
        except BaseException as error:
            if recording:
                request_failed(span, error)
            raise
        finally:
            if red is not None:
                red.in_flight -= 1
                seconds = time.perf_counter() - started
                route = route_template(scope)
                exemplar = trace_exemplar(span) if recording else None  # sampled: recorded
                red.record(scope["method"], route, status, seconds, exemplar)
