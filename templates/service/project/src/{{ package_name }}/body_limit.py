"""The request-body limit: a body larger than MAX_REQUEST_BODY_BYTES is refused with 413 before
the app holds it in memory.

A pure ASGI middleware, so it sees the body as the server streams it in, before anything parses
it. A declared `Content-Length` over the limit is refused before one byte is read (the server
never even sends `100 Continue`); a body without one (chunked) is counted as it arrives, and
reading stops with a 413 at the first chunk past the limit. The endpoint reading the body gets
`RequestBodyTooLargeError`, an HTTP exception that FastAPI hands to the problem handlers; a
middleware that reads the body before routing gets the same, answered here.
"""

from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .core_config import CoreSettings
from .middleware import request_header
from .problems import problem_response


class RequestBodyTooLargeError(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"The request body is larger than this service accepts ({limit} bytes).",
            # The rest of the body is never read: the server closes the connection after this.
            headers={"Connection": "close"},
        )


def body_limit(app: ASGIApp, settings: CoreSettings) -> ASGIApp:
    """The body-limit middleware as the capability protocol builds middleware."""
    return BodyLimitMiddleware(app, settings.max_request_body_bytes)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = request_header(scope, b"content-length")
        if declared is None and request_header(scope, b"transfer-encoding") is None:
            # No body to count (HTTP/1.1: a request with neither header has none; uvicorn
            # speaks nothing else): most reads, spared two wrappers on their way through.
            await self.app(scope, receive, send)
            return
        if declared and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return

        received = 0
        response_started = False

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise RequestBodyTooLargeError(self.limit)
            return message

        async def send_tracking_start(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_within_limit, send_tracking_start)
        except RequestBodyTooLargeError:
            if response_started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = RequestBodyTooLargeError(self.limit)
        response = problem_response(error.status_code, error.detail, error.headers)
        await response(scope, receive, send)
