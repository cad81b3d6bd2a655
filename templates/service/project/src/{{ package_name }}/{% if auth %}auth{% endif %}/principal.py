"""Who is calling: the `Principal` built from a verified access token, and where to find it.

The authentication middleware (`middleware.py`) verifies the request's credentials once, before
routing, and leaves the outcome in two places:

- the request: `authentication_of(scope)` (also `request.state.authentication`), which the
  `authorize` and `principal` extension points and the dependencies read;
- a context variable, `current_principal()`, for code with no request at hand (the items
  `writing` hook that records an item's creator; later, the tenant of the caller).

`Principal.claims` keeps every verified claim, so a capability built on top (multi-tenancy
reading `tenant_id` or `org_id`) needs no second look at the token.
"""

from collections.abc import Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.types import Scope

STATE_KEY = "authentication"


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    """The token's `sub`: the user, or for a machine token the client (RFC 9068 §2.2)."""
    client_id: str | None
    """The client the token was issued to (`client_id`, else `azp`), when the token says."""
    is_machine: bool
    """A client acting for itself (client credentials), not for a user."""
    scopes: frozenset[str]
    roles: frozenset[str]
    claims: Mapping[str, Any] = field(repr=False)
    via: Literal["bearer", "session"] = "bearer"

    @property
    def key(self) -> str:
        """`user:<sub>` or `client:<client id>`: the identity the rate limiter counts."""
        if self.is_machine:
            return f"client:{self.client_id or self.subject}"
        return f"user:{self.subject}"


@dataclass(frozen=True, slots=True)
class Authentication:
    """The outcome for one request: a principal, or why the credentials were refused."""

    principal: Principal | None = None
    error: Literal["invalid_token", "csrf"] | None = None
    """`invalid_token`: a bearer token or session that did not verify; `csrf`: a session
    cookie on a state-changing request without its X-CSRF-Token."""
    csrf_token: str | None = None
    """The session's CSRF token, for a cookie session (GET /auth/me hands it to the page)."""


ANONYMOUS = Authentication()
_principal: ContextVar[Principal | None] = ContextVar("principal", default=None)


def authentication_of(scope: Scope) -> Authentication:
    found = scope.get("state", {}).get(STATE_KEY)
    return found if isinstance(found, Authentication) else ANONYMOUS


def principal_key(scope: Scope) -> str | None:
    """The `principal` extension point: the verified caller's key, or None."""
    principal = authentication_of(scope).principal
    return principal.key if principal else None


def current_principal() -> Principal | None:
    """The verified caller of the request being handled, or None (anonymous, or no request)."""
    return _principal.get()


def act_as(principal: Principal | None) -> "Token[Principal | None]":
    """`current_principal()` is `principal` until `stop_acting_as(token)` (the middleware, around
    each request; a token pair rather than a generator context manager, which costs six Python
    calls more per request: docs/performance.md)."""
    return _principal.set(principal)


def stop_acting_as(token: "Token[Principal | None]") -> None:
    _principal.reset(token)


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """A top-level claim named `path` if there is one, else the dotted path into nested claims."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def as_strings(value: Any) -> frozenset[str]:
    """A space-separated string (OAuth `scope`) or a list of strings; anything else is empty."""
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list | tuple):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


def principal_from_claims(
    claims: Mapping[str, Any],
    *,
    scopes_claim: str,
    roles_claim: str,
    via: Literal["bearer", "session"] = "bearer",
) -> Principal:
    subject = str(claims["sub"])
    client = claims.get("client_id") or claims.get("azp")
    client_id = client if isinstance(client, str) else None
    # Client credentials: `sub` is the client itself (RFC 9068, Cognito); Auth0 says so in `gty`.
    is_machine = subject == client_id or claims.get("gty") == "client-credentials"
    return Principal(
        subject=subject,
        client_id=client_id,
        is_machine=is_machine,
        scopes=as_strings(claim_at(claims, scopes_claim)),
        roles=as_strings(claim_at(claims, roles_claim)),
        claims=claims,
        via=via,
    )
