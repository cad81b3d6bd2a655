"""The sharding middleware: consistency tokens in and out, and retries a client never sees.

Around each HTTP request it
- reads the client's consistency token (header `X-Consistency-Token`, else the cookie),
  checks it (malformed: a 400; its positions are parsed only if used) and sets the request's
  routing (`routing.RequestRouting`): GET and HEAD may read replicas;
- adds to the response of a request that committed a write the merged token, as the header
  and as a cookie that lives as long as a replica may lag (older writes are on every replica
  that reads are sent to);
- runs the request again when the database says a write reached a bucket that resharding is
  moving (SQLSTATE SHFNC: wait for the move, up to SHARD_FENCE_WAIT_SECONDS) or has moved
  (SHMOV: re-read the map, go to the new shard), or when a replica failed a read (then from
  the primaries). It only does so before any response was sent and when no commit happened,
  so a retried write is never applied twice; the request body is kept for it (up to 1 MiB).
"""

import asyncio
import logging
import re
import time
from collections.abc import Callable
from http import HTTPStatus
from math import ceil

from sqlalchemy.exc import DBAPIError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..problems import problem_response
from .config import Settings
from .routing import RequestRouting, request_routing
from .runtime import ShardingRuntime
from .tokens import TOKEN_COOKIE, TOKEN_HEADER, checked_token, format_token, merge

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BUCKET_FENCED, BUCKET_MOVED = "SHFNC", "SHMOV"
MAX_REPLAYED_BODY = 1024 * 1024
FENCE_POLL_SECONDS = 0.05


def sharding_middleware(app: ASGIApp, settings: Settings) -> ASGIApp:
    return ShardingMiddleware(app, settings)


def sqlstate(error: BaseException) -> str | None:
    if isinstance(error, DBAPIError):
        return getattr(error.orig, "sqlstate", None)
    return None


class ShardingMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.cookie_seconds = ceil(settings.replica_max_lag_seconds) + 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # One coroutine, not two: every await of the app below resumes each frame above it.
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            token = _token(scope["headers"])
        except ValueError as error:
            await problem_response(HTTPStatus.BAD_REQUEST, f"{TOKEN_HEADER}: {error}")(
                scope, receive, send
            )
            return
        safe = scope["method"] in SAFE_METHODS
        routing = RequestRouting(safe and self.settings.replica_reads_enabled, token, safe=safe)
        reset = request_routing.set(routing)
        try:
            # A read's body means nothing: a replayed read gets an empty one, and none is kept.
            replay, receive = (
                (_empty_body(receive), receive) if safe else await _replayable(receive)
            )
            deadline = time.monotonic() + self.settings.shard_fence_wait_seconds
            replica_retried = False
            while True:
                sent = False

                async def send_with_token(message: Message) -> None:
                    nonlocal sent
                    if message["type"] == "http.response.start":
                        sent = True
                        if routing.committed:
                            await self._add_token(_runtime(scope), routing, scope, message)
                    await send(message)

                try:
                    await self.app(scope, receive, send_with_token)
                    return
                except Exception as error:
                    if sent or routing.committed or not replay:
                        raise
                    state = sqlstate(error)
                    runtime = _runtime(scope)  # not before: a read that succeeds never needs it
                    if state in (BUCKET_FENCED, BUCKET_MOVED):
                        runtime.stats.fence_waits += 1
                        if time.monotonic() >= deadline:
                            runtime.stats.fence_timeouts += 1
                            logger.warning(
                                "write refused by its shard for %g s (%s): 503",
                                self.settings.shard_fence_wait_seconds,
                                state,
                            )
                            await _moving(scope, receive, send)
                            return
                        if state == BUCKET_FENCED:
                            await asyncio.sleep(FENCE_POLL_SECONDS)
                        await runtime.refresh_map()
                    elif (
                        isinstance(error, DBAPIError | OSError | TimeoutError)
                        and routing.replicas_used
                        and not replica_retried
                    ):
                        runtime.replica_failed(routing.replicas_used, type(error).__name__)
                        runtime.stats.replica_fallbacks += 1
                        routing.replicas_allowed, replica_retried = False, True
                    else:
                        raise
                    routing.replicas_used.clear()
                    receive = replay()
        finally:
            request_routing.reset(reset)

    async def _add_token(
        self, runtime: ShardingRuntime, routing: RequestRouting, scope: Scope, message: Message
    ) -> None:
        token = format_token(merge(routing.tokens, await runtime.positions(routing.committed)))
        headers = MutableHeaders(scope=message)
        headers[TOKEN_HEADER] = token
        # By hand: SimpleCookie would quote the value (it has '/'), which RFC 6265 allows bare.
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        headers.append(
            "set-cookie",
            f"{TOKEN_COOKIE}={token}; Path=/; Max-Age={self.cookie_seconds}; HttpOnly; "
            f"SameSite=Lax{secure}",
        )


def _runtime(scope: Scope) -> ShardingRuntime:
    runtime: ShardingRuntime = scope["app"].state.sharding
    return runtime


TOKEN_HEADER_KEY = TOKEN_HEADER.lower().encode()
COOKIE_TOKEN = re.compile(rb"(?:^|;)[ \t]*" + TOKEN_COOKIE.encode() + rb"=([^;]*)")
"""The token's pair in a `cookie` header (the first), its value with spaces and quotes around."""


def _token(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The client's token as sent, checked: the header's, else the cookie's (ValueError when
    malformed). Not parsed: see `RequestRouting.tokens`."""
    from_cookie = None
    for name, value in headers:
        if name == TOKEN_HEADER_KEY:
            return checked_token(value)
        if name == b"cookie" and from_cookie is None:
            found = COOKIE_TOKEN.search(value)
            if found is not None:
                from_cookie = found[1].strip(b' \t"')
    return checked_token(from_cookie) if from_cookie else b""


def _empty_body(receive: Receive) -> Callable[[], Receive]:
    def replay() -> Receive:
        return _then({"type": "http.request", "body": b"", "more_body": False}, receive)

    return replay


async def _replayable(receive: Receive) -> tuple[Callable[[], Receive] | None, Receive]:
    """Read the body now, so the request can be run again: (a way to replay it, receive).
    A body larger than MAX_REPLAYED_BODY is passed on as it streams, and not replayed."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return None, _then(message, receive)
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if not message.get("more_body", False):
            break
        if size > MAX_REPLAYED_BODY:
            head = {"type": "http.request", "body": b"".join(chunks), "more_body": True}
            return None, _then(head, receive)
    body = b"".join(chunks)

    def replay() -> Receive:
        return _then({"type": "http.request", "body": body, "more_body": False}, receive)

    return replay, replay()


def _then(first: Message, rest: Receive) -> Receive:
    """`first`, then whatever `rest` gives (a disconnect, in the end)."""
    given = False

    async def receive() -> Message:
        nonlocal given
        if not given:
            given = True
            return first
        return await rest()

    return receive


async def _moving(scope: Scope, receive: Receive, send: Send) -> None:
    response = problem_response(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "The item's shard is being changed; retry in a moment.",
        headers={"Retry-After": "1"},
    )
    await response(scope, receive, send)
