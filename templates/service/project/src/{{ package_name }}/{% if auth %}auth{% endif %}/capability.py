"""Authentication in the capability protocol.

- lifespan: `app.state.auth` (the provider's client, keys, validator, login, sessions), after
  checking that every permission a route names is defined in AUTH_PERMISSIONS; the keys are
  fetched before the first request when the provider answers within two seconds;
- middleware at 20: the caller is verified before the rate limiter (30) counts it;
- readiness: the identity provider, not critical: cached keys keep validating while it is down;
- extension points: `principal` (the verified caller), `authorize` (scopes and roles),
  `sensitive_paths` (login and refresh, for the strict rate-limit policy), and the items
  `writing` hook that records each item's creator;
- metrics: key fetches, refused credentials, refresh-credential reuse.
"""

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from ..capability import Capability, Metric, Middleware, Sample
from ..extensions import Extensions
from ..health.checks import ReadinessCheck
from .authorization import authorize, check_routes
from .dependencies import auth_of, build_auth
from .discovery import get_json
from .middleware import authentication_middleware
from .ownership import record_creator
from .principal import principal_key
from .router import LOGIN_PATHS, router

# Outside the rate limiter (30): it counts the verified caller, not an address.
POSITION = 20
WARM_UP_SECONDS = 2.0


@asynccontextmanager
async def auth_lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings
    check_routes(app, dict(settings.auth_permissions))
    app.state.auth = auth = build_auth(settings, app.state.redis)
    # The provider's keys before the first request, if it answers soon: the service starts
    # without it all the same (a failure is logged, and retried on the first token).
    with suppress(TimeoutError):
        async with asyncio.timeout(WARM_UP_SECONDS):
            await auth.keys.warm()
    try:
        yield
    finally:
        await auth.http.aclose()


def readiness(app: FastAPI) -> Iterable[ReadinessCheck]:
    auth = auth_of(app)

    async def provider_answers() -> None:
        """The keys answer now (their URL from the cached discovery document)."""
        url = auth.settings.auth_jwks_url or (await auth.discovery.metadata()).jwks_uri
        await get_json(auth.http, url)

    return (ReadinessCheck("identity_provider", provider_answers, critical=False),)


def metrics(app: FastAPI) -> Iterable[Metric]:
    auth = auth_of(app)
    counters = {
        "auth_jwks_fetches_total": ("Requests for the provider's keys", auth.keys.fetches_total),
        "auth_jwks_fetch_errors_total": ("Failed key requests", auth.keys.fetch_errors_total),
        "auth_credentials_refused_total": (
            "Bearer tokens that did not verify",
            auth.stats.tokens_refused_total,
        ),
    }
    if auth.sessions is not None:
        counters["auth_refresh_reuse_total"] = (
            "Refresh credentials presented twice (their session revoked)",
            auth.sessions.reuse_detected_total,
        )
    return tuple(
        Metric(name, "counter", help_, (Sample({}, float(value)),))
        for name, (help_, value) in counters.items()
    )


def extend(extensions: Extensions) -> None:
    extensions.principal = principal_key
    extensions.authorize = authorize
    extensions.sensitive_paths.extend(LOGIN_PATHS)
    extensions.items.writing.append(record_creator)


CAPABILITY = Capability(
    name="auth",
    lifespan=auth_lifespan,
    readiness=readiness,
    routers=(router,),
    middleware=(Middleware(POSITION, authentication_middleware),),
    metrics=metrics,
    extend=extend,
)
