"""Security headers on every response, whatever produced it (an endpoint, a 404, a 413, a 429).

For a JSON API (OWASP REST Security Cheat Sheet): no MIME sniffing, no framing, no referrer, and
no caching of responses that do not say otherwise; HSTS once the request came over TLS (the load
balancer terminates TLS and says so in `X-Forwarded-Proto`, which uvicorn trusts from
FORWARDED_ALLOW_IPS), so browsers keep to HTTPS. The server's own `server` header is turned off
where uvicorn starts (`--no-server-header`, Dockerfile and Makefile).
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Settings

HSTS = "max-age=31536000; includeSubDomains"
ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
)


def security_headers(app: ASGIApp, settings: Settings) -> ASGIApp:
    """The security-headers middleware as the capability protocol builds middleware."""
    return SecurityHeadersMiddleware(app)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        over_tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS:
                    headers.setdefault(name, value)
                headers.setdefault("Cache-Control", "no-store")
                if over_tls:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
