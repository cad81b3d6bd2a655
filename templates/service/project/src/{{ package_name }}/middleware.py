"""The request middleware: request id, one access log line per request, last-resort 500.

A pure ASGI middleware rather than `BaseHTTPMiddleware`, so the request id's context variable
is set around the whole request (dependencies, endpoint, exception handlers) and streaming
responses are not buffered.

The 500's log line names the error and where it happened, but not its message: an unexpected
error's message can hold what the client sent (PostgreSQL quotes the value it rejected, a
`ValueError` the text it could not parse), and request data has no place in the logs.
"""

import logging
import time
import traceback
from collections.abc import Iterable
from http import HTTPStatus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .core_config import CoreSettings
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


def request_context(app: ASGIApp, settings: CoreSettings) -> ASGIApp:
    """The request context middleware as the capability protocol builds middleware."""
    return RequestContextMiddleware(app)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = resolve_request_id(request_header(scope, REQUEST_ID_KEY))
        id_pair = (REQUEST_ID_KEY, request_id.encode("latin-1"))
        token = bind_request_id(request_id)
        started = time.perf_counter()
        status = HTTPStatus.INTERNAL_SERVER_ERROR.value
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = with_header(message.get("headers", ()), id_pair)
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception as error:
            logger.error("unhandled error", extra={"exception": without_messages(error)})
            if response_started:
                raise
            response = problem_response(HTTPStatus.INTERNAL_SERVER_ERROR)
            await response(scope, receive, send_with_request_id)
        finally:
            _log_access(scope, status, time.perf_counter() - started)
            unbind_request_id(token)


def without_messages(error: BaseException) -> str:
    """The traceback of `error` and of its causes, each ending with its type and no message."""
    blocks: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.extract_tb(current.__traceback__).format())
        kind = f"{type(current).__module__}.{type(current).__name__}"
        blocks.append(f"Traceback (most recent call last):\n{frames}{kind}")
        current = current.__cause__ or current.__context__
    return "\n\nwhich happened while handling the error below:\n\n".join(blocks)


def request_header(scope: Scope, key: bytes) -> str | None:
    """The first value of a request header (`key` in lower case), without building `Headers`."""
    for name, value in scope["headers"]:
        if name == key:
            return str(value.decode("latin-1"))
    return None


def with_header(
    headers: Iterable[tuple[bytes, bytes]], pair: tuple[bytes, bytes]
) -> list[tuple[bytes, bytes]]:
    """`headers` with `pair` set (any header of that name replaced), without building
    `MutableHeaders`: ASGI carries names in lower case, as `pair`'s is."""
    # A plain loop: on Python 3.11 a comprehension is a function call of its own, on every
    # response.
    found: list[tuple[bytes, bytes]] = []
    name = pair[0]
    for header in headers:
        if header[0].lower() != name:
            found.append(header)
    found.append(pair)
    return found


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
