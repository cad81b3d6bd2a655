"""Security headers on every response, whatever produced it (an endpoint, a 404, a 413, a 429).

For a JSON API (OWASP REST Security Cheat Sheet): no MIME sniffing, no framing, no referrer, and
no caching of responses that do not say otherwise; HSTS once the request came over TLS (the load
balancer terminates TLS and says so in `X-Forwarded-Proto`, which uvicorn trusts from
FORWARDED_ALLOW_IPS), so browsers keep to HTTPS. The server's own `server` header is turned off
where uvicorn starts (`--no-server-header`, Dockerfile and Makefile).
"""

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .core_config import CoreSettings

HSTS = "max-age=31536000; includeSubDomains"
ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)
# Encoded once, as ASGI carries them (names in lower case): each response only appends them.
_ALWAYS_RAW = tuple((name.lower().encode(), value.encode()) for name, value in ALWAYS)
_OVER_TLS_RAW = (*_ALWAYS_RAW, (b"strict-transport-security", HSTS.encode()))


def security_headers(app: ASGIApp, settings: CoreSettings) -> ASGIApp:
    """The security-headers middleware as the capability protocol builds middleware."""
    return SecurityHeadersMiddleware(app)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = _OVER_TLS_RAW if scope.get("scheme") == "https" else _ALWAYS_RAW

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_defaults(message.get("headers", ()), wanted)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_defaults(
    headers: Iterable[tuple[bytes, bytes]], defaults: tuple[tuple[bytes, bytes], ...]
) -> list[tuple[bytes, bytes]]:
    """`headers` and each of `defaults` the response does not set itself (a `Cache-Control`
    an endpoint chose is kept)."""
    # Plain loops: on Python 3.11 a comprehension or generator is a function call of its own,
    # and this runs on every response.
    found = list(headers)
    present: set[bytes] = set()
    for name, _ in found:
        present.add(name.lower())
    for pair in defaults:
        if pair[0] not in present:
            found.append(pair)
    return found
