"""The rate-limit middleware: one limiter check per request, before routing.

A pure ASGI middleware (like `RequestContextMiddleware`, which stays outside it so refusals are
logged with their request id): it answers 429 without reaching the endpoint, and adds the
RateLimit header fields to every response of a limited route, whatever produced the response.
The policy is chosen by path prefix from settings, so a route group is limited without
touching its code. The check also reads the key the request's handler will read first, when a
capability names it (the `read_ahead` extension point: caching's item), in the same round trip.
"""

from collections.abc import Iterable
from typing import cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..redis_client.read_ahead import offer, withdraw
from .config import DEFAULT_POLICY, SENSITIVE_POLICY, RateLimitPolicy, Settings, with_quota
from .identity import client_identity
from .limiter import RateLimitBackendError, RateLimiter
from .responses import limiter_unavailable, policy_header, quota_exceeded, rate_limit_headers


class RouteTable:
    """Which policy limits a path: exempt prefixes first, then the longest mapped prefix.

    `sensitive_paths` (the extension point of that name: login, token refresh...) use the
    `sensitive` policy, unless RATE_LIMIT_ROUTES maps them itself or defines no such policy.
    """

    def __init__(self, settings: Settings, sensitive_paths: Iterable[str] = ()) -> None:
        self.enabled = settings.rate_limit_enabled
        self.policies = settings.rate_limit_policies
        self._exempt = tuple(_Prefix(prefix) for prefix in settings.rate_limit_exempt_paths)
        routes = dict(settings.rate_limit_routes)
        if SENSITIVE_POLICY in self.policies:
            for prefix in sensitive_paths:
                routes.setdefault(prefix, SENSITIVE_POLICY)
        by_length = sorted(routes.items(), key=lambda kv: -len(kv[0]))
        self._routes = [(_Prefix(prefix), name) for prefix, name in by_length]
        self._default = (DEFAULT_POLICY, self.policies[DEFAULT_POLICY])

    def policy_for(self, path: str) -> tuple[str, RateLimitPolicy] | None:
        if not self.enabled:
            return None
        for prefix in self._exempt:
            if prefix.covers(path):
                return None
        for prefix, name in self._routes:
            if prefix.covers(path):
                return name, self.policies[name]
        return self._default


class _Prefix:
    """A path prefix, normalised once: `/a/b` is under `/a` and `/a/`, but `/ab` is not."""

    __slots__ = ("base", "folder")

    def __init__(self, prefix: str) -> None:
        self.base = prefix.rstrip("/")
        self.folder = self.base + "/"

    def covers(self, path: str) -> bool:
        return path == self.base or path.startswith(self.folder)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.routes: RouteTable | None = None  # on the first request: it reads the extensions
        self.api_key_header = settings.rate_limit_api_key_header
        self.trusted_proxies = settings.rate_limit_trusted_proxies
        self.known_api_keys = settings.rate_limit_api_key_hashes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.routes is None:
            sensitive = scope["app"].state.extensions.sensitive_paths
            self.routes = RouteTable(self.settings, sensitive)
        match = self.routes.policy_for(scope["path"]) if scope["type"] == "http" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        policy_name, policy = match
        limiter = cast(RateLimiter, scope["app"].state.rate_limiter)
        extensions = scope["app"].state.extensions
        policy = with_quota(policy, extensions.rate_quota(policy_name))
        identity = client_identity(
            scope,
            api_key_header=self.api_key_header,
            trusted_proxies=self.trusted_proxies,
            known_api_keys=self.known_api_keys,
            principal=extensions.principal(scope),
        )
        plan = extensions.plan()
        read_ahead = None
        for key_of in extensions.read_ahead:
            read_ahead = key_of(scope)
            if read_ahead:
                break
        try:
            decision = await limiter.acquire(
                policy_name, policy, identity, extensions.scope_key(), read_ahead
            )
        except RateLimitBackendError:
            if not policy.fail_open:
                limiter.count(policy_name, "failed_closed", plan)
                await limiter_unavailable(policy_name, policy)(scope, receive, send)
                return
            # Fail open: served uncounted (the limiter has counted and logged the failure).
            limiter.count(policy_name, "failed_open", plan)
            only_policy = [policy_header(policy_name, policy)]
            await self.app(scope, receive, _adding_headers(send, only_policy))
            return
        if not decision.allowed:
            limiter.count(policy_name, "limited", plan)
            await quota_exceeded(policy, decision)(scope, receive, send)
            return
        limiter.count(policy_name, "allowed", plan)
        send = _adding_headers(send, rate_limit_headers(policy, decision))
        if not read_ahead:
            await self.app(scope, receive, send)
            return
        offered = offer(read_ahead, decision.read_ahead)
        try:
            await self.app(scope, receive, send)
        finally:
            withdraw(offered)


def _adding_headers(send: Send, headers: list[tuple[str, str]]) -> Send:
    # Appended as ASGI carries them (names in lower case), without building `MutableHeaders`.
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *raw]
        await send(message)

    return send_with_headers
