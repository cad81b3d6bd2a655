"""The authentication middleware: who is calling, decided once per request, before routing.

It runs before the rate limiter (so the limiter counts the verified caller, not an address) and
refuses nothing itself: it records an `Authentication` (a principal, or why the credentials did
not verify) on the request and in `current_principal()`; the `authorize` extension point turns
that into 401 or 403 on the routes that need a permission, and public routes ignore it.

Credentials, in order:
1. `Authorization: Bearer <access token>` (RFC 6750 §2.1; a token in the query string or the
   body is never read, RFC 9700 §4.3.2);
2. the browser session cookie set by /auth/callback (see `sessions.py`). On a state-changing
   request (not GET, HEAD, OPTIONS) it counts only with the session's `X-CSRF-Token` header:
   a page on another site can make the browser send the cookie, never the header.
"""

import hmac
import logging
from collections.abc import Callable, Mapping
from typing import Any

from redis.exceptions import RedisError
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import Settings
from .cookies import CSRF_HEADER, CookieNames
from .dependencies import Auth, auth_of
from .principal import (
    ANONYMOUS,
    STATE_KEY,
    Authentication,
    Principal,
    act_as,
    principal_from_claims,
    stop_acting_as,
)
from .sessions import SessionStore
from .tokens import InvalidTokenError, VerifiedTokens

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
BEARER = "bearer"


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.cookies = CookieNames.for_settings(settings)
        self._principals: dict[str, tuple[Mapping[str, Any], Principal]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authentication = await self.authenticate(scope, auth_of(scope["app"]))
        scope.setdefault("state", {})[STATE_KEY] = authentication
        token = act_as(authentication.principal)
        try:
            await self.app(scope, receive, send)
        finally:
            stop_acting_as(token)

    async def authenticate(self, scope: Scope, auth: Auth) -> Authentication:
        # The two headers read straight from the scope (the first of each, as `Headers.get`
        # answers; ASGI names are in lower case): no `Headers` built for every request.
        authorization = cookie = None
        for name, value in scope["headers"]:
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"cookie" and cookie is None:
                cookie = value.decode("latin-1")
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() == BEARER:
                return await self.from_bearer(credentials.strip(), auth)
        if cookie and auth.sessions is not None:
            handle = cookie_parser(cookie).get(self.cookies.session)
            if handle:
                headers = Headers(scope=scope)
                return await self.from_session(handle, scope["method"], headers, auth.sessions)
        return ANONYMOUS

    async def from_bearer(self, token: str, auth: Auth) -> Authentication:
        try:
            claims = await auth.validator.validate(token)
        except InvalidTokenError as error:
            auth.stats.tokens_refused_total += 1
            logger.info("bearer token refused: %s", error)
            return Authentication(error="invalid_token")
        return Authentication(principal=self.principal_of(token, claims, auth.principal_of))

    def principal_of(
        self, token: str, claims: Mapping[str, Any], build: Callable[[Mapping[str, Any]], Principal]
    ) -> Principal:
        """The principal of claims the validator has just verified (or found still verified).

        A token the validator remembers comes back as the same claims object on each request
        (tokens.py), so its principal is built once, not per request; claims verified anew (a
        new token, or one verified again after expiry or a key change) are a new object and
        build a new principal. Only what verification let through is ever looked up here.
        """
        known = self._principals.get(token)
        if known is not None and known[0] is claims:
            return known[1]
        principal = build(claims)
        if len(self._principals) >= VerifiedTokens.SIZE:
            self._principals.clear()
        self._principals[token] = (claims, principal)
        return principal

    async def from_session(
        self, handle: str, method: str, headers: Headers, sessions: SessionStore
    ) -> Authentication:
        try:
            session = await sessions.by_handle(handle)
        except RedisError:
            logger.warning("browser sessions are unavailable (Redis)", exc_info=True)
            return Authentication(error="invalid_token")
        if session is None:
            return Authentication(error="invalid_token")
        if method not in SAFE_METHODS:
            sent = headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
                logger.info("session cookie without its CSRF token on %s", method)
                return Authentication(error="csrf")
        principal = principal_from_claims(
            session.claims,
            scopes_claim=self.settings.auth_scopes_claim,
            roles_claim=self.settings.auth_roles_claim,
            via="session",
        )
        return Authentication(principal=principal, csrf_token=session.csrf_token)


def authentication_middleware(app: ASGIApp, settings: Settings) -> ASGIApp:
    return AuthenticationMiddleware(app, settings)
