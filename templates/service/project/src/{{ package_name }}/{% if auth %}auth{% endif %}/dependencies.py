"""The objects authentication keeps while the app runs (`app.state.auth`), built in its lifespan.

One HTTP client to the provider, its metadata (`Discovery`), its keys (`JwksCache`), the token
validator, and, when configured, the browser login (`OidcLogin`, with sessions in Redis) and
the machine client. `auth_of(app)` reaches them from middleware; `AuthDep` from endpoints.
"""

import ssl
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import httpx
from fastapi import Depends, FastAPI, Request

from .config import PermissionRule
from .discovery import Discovery, jwks_fetcher
from .jwks import JwksCache
from .login import OidcLogin
from .machine import MachineClient
from .principal import Principal, principal_from_claims
from .sessions import SessionStore
from .tokens import TokenValidator

if TYPE_CHECKING:  # the app's settings: importing them at run time imports every section
    from ..config import Settings


@dataclass(slots=True)
class AuthStats:
    tokens_refused_total: int = 0
    """Bearer tokens and session cookies that did not verify."""


@dataclass(slots=True)
class Auth:
    settings: "Settings"
    http: httpx.AsyncClient
    discovery: Discovery
    keys: JwksCache
    validator: TokenValidator
    permissions: dict[str, PermissionRule]
    sessions: SessionStore | None = None
    login: OidcLogin | None = None
    machine: MachineClient | None = None
    stats: AuthStats = field(default_factory=AuthStats)

    def principal_of(self, claims: Any, via: Literal["bearer", "session"] = "bearer") -> Principal:
        return principal_from_claims(
            claims,
            scopes_claim=self.settings.auth_scopes_claim,
            roles_claim=self.settings.auth_roles_claim,
            via=via,
        )


@cache
def trust_store() -> ssl.SSLContext:
    """The CA certificates the provider's TLS is checked against (httpx's own choice: certifi,
    or SSL_CERT_FILE / SSL_CERT_DIR), read once per process: reading them takes tens of
    milliseconds, paid by every app start (every test) otherwise."""
    return httpx.create_ssl_context()


def build_auth(settings: "Settings", redis: Any) -> Auth:
    http = httpx.AsyncClient(
        verify=trust_store(),
        timeout=settings.auth_idp_timeout_seconds,
        follow_redirects=False,
        headers={"User-Agent": settings.service_name},
    )
    discovery = Discovery(http, settings.oidc_issuer, settings.auth_jwks_ttl_seconds)
    keys = JwksCache(
        jwks_fetcher(http, discovery, settings.auth_jwks_url),
        ttl_seconds=settings.auth_jwks_ttl_seconds,
        cooldown_seconds=settings.auth_jwks_refetch_cooldown_seconds,
    )
    validator = TokenValidator(settings, keys)
    auth = Auth(settings, http, discovery, keys, validator, dict(settings.auth_permissions))
    if settings.auth_client_id and settings.auth_redirect_uri:
        auth.sessions = SessionStore(redis, settings)
        auth.login = OidcLogin(
            settings,
            client_id=settings.auth_client_id,
            redirect_uri=settings.auth_redirect_uri,
            http=http,
            discovery=discovery,
            validator=validator,
        )
    if settings.auth_machine_client_id and settings.auth_machine_client_secret:
        auth.machine = MachineClient.from_discovery(
            discovery,
            http,
            client_id=settings.auth_machine_client_id,
            client_secret=settings.auth_machine_client_secret.get_secret_value(),
            scopes=tuple(settings.auth_machine_scopes),
            audience=settings.auth_machine_audience,
        )
    return auth


def auth_of(app: FastAPI) -> Auth:
    return cast(Auth, app.state.auth)


async def get_auth(request: Request) -> Auth:
    return auth_of(request.app)


AuthDep = Annotated[Auth, Depends(get_auth)]
