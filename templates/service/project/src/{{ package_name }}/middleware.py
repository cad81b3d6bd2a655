"""The request middleware: request id, one access log line per request, last-resort 500.

A pure ASGI middleware rather than `BaseHTTPMiddleware`, so the request id's context variable
is set around the whole request (dependencies, endpoint, exception handlers) and streaming
responses are not buffered.
"""

import logging
import time
from http import HTTPStatus

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Settings
from .problems import problem_response
from .request_context import (
    REQUEST_ID_HEADER,
    bind_request_id,
    resolve_request_id,
    unbind_request_id,
)

logger = logging.getLogger(__name__)
REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")
# Probes hit these every few seconds; their access lines are DEBUG so they don't drown the rest.
QUIET_PATH_PREFIXES = ("/health/",)


def request_context(app: ASGIApp, settings: Settings) -> ASGIApp:
    """The request context middleware as the capability protocol builds middleware."""
    return RequestContextMiddleware(app)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = resolve_request_id(_header(scope, REQUEST_ID_KEY))
        token = bind_request_id(request_id)
        started = time.perf_counter()
        status = HTTPStatus.INTERNAL_SERVER_ERROR.value
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            logger.exception("unhandled error")
            if response_started:
                raise
            response = problem_response(HTTPStatus.INTERNAL_SERVER_ERROR)
            await response(scope, receive, send_with_request_id)
        finally:
            _log_access(scope, status, time.perf_counter() - started)
            unbind_request_id(token)


def _header(scope: Scope, key: bytes) -> str | None:
    """The first value of a request header (`key` in lower case), without building `Headers`."""
    for name, value in scope["headers"]:
        if name == key:
            return str(value.decode("latin-1"))
    return None


def _log_access(scope: Scope, status: int, elapsed_seconds: float) -> None:
    path: str = scope["path"]
    level = logging.DEBUG if path.startswith(QUIET_PATH_PREFIXES) else logging.INFO
    if not logger.isEnabledFor(level):  # at WARNING, no record is built for any request
        return
    route = scope.get("route")
    logger.log(
        level,
        "%s %s %s",
        scope["method"],
        path,
        status,
        extra={
            "method": scope["method"],
            "path": path,
            "route": getattr(route, "path", None),
            "status": status,
            "duration_ms": round(elapsed_seconds * 1000, 2),
        },
    )
