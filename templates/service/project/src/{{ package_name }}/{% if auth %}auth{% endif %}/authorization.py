"""Authorization: deny by default, decided from the verified caller's scopes and roles.

- `authorize(request, permission)` is the `authorize` extension point: every route that names a
  permission (`dependencies=[permission("items:write")]`, see `security.py`) comes here. Which
  scopes and roles hold a permission is data (`AUTH_PERMISSIONS`), not code; a permission the
  table does not name is held by nobody, and the app refuses to start with one (`check_routes`).
- `require_scopes(...)` and `require_roles(...)` are FastAPI dependencies for routes of your
  own that want to say it inline; both hand the endpoint the `Principal`.

Refusals are problem documents with the RFC 6750 challenge: 401 `WWW-Authenticate: Bearer`
when there is no usable credential (`error="invalid_token"` when one was sent and refused), 403
`error="insufficient_scope"` (with the scopes needed) when the caller may not. They never say
why a token was refused: that is in the log.
"""

from collections.abc import Callable, Coroutine, Iterable
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.routing import APIRoute, iter_route_contexts

from ..security import required_permissions
from .config import PermissionRule
from .dependencies import auth_of
from .principal import Authentication, Principal, authentication_of

REALM = "api"
NOT_AUTHENTICATED = "Authentication is required."
NOT_ALLOWED = "The caller may not do this."


def not_authenticated(authentication: Authentication) -> HTTPException:
    challenge = f'Bearer realm="{REALM}"'
    if authentication.error == "invalid_token":
        challenge += ', error="invalid_token", error_description="The credentials are not valid."'
    return HTTPException(
        HTTPStatus.UNAUTHORIZED, NOT_AUTHENTICATED, headers={"WWW-Authenticate": challenge}
    )


def forbidden(scopes: Iterable[str] = ()) -> HTTPException:
    challenge = f'Bearer realm="{REALM}", error="insufficient_scope"'
    needed = " ".join(sorted(scopes))
    if needed:
        challenge += f', scope="{needed}"'
    return HTTPException(HTTPStatus.FORBIDDEN, NOT_ALLOWED, headers={"WWW-Authenticate": challenge})


def authenticated(request: Request) -> Principal:
    authentication = authentication_of(request.scope)
    if authentication.principal is None:
        raise not_authenticated(authentication)
    return authentication.principal


def check(principal: Principal, rule: PermissionRule) -> None:
    missing = set(rule.scopes) - principal.scopes
    if missing:
        raise forbidden(rule.scopes)
    if rule.roles and not principal.roles.intersection(rule.roles):
        raise forbidden()


async def authorize(request: Request, permission: str) -> None:
    """The `authorize` extension point."""
    principal = authenticated(request)
    rule = auth_of(request.app).permissions.get(permission)
    if rule is None:
        raise forbidden()  # deny by default (check_routes keeps this from happening)
    check(principal, rule)


def require_scopes(*scopes: str) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """`principal: Annotated[Principal, Depends(require_scopes("reports:read"))]`."""
    rule = PermissionRule(scopes=scopes)

    async def dependency(request: Request) -> Principal:
        principal = authenticated(request)
        check(principal, rule)
        return principal

    return dependency


def require_roles(*roles: str) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """Any one of `roles`: `Depends(require_roles("admin", "support"))`."""
    rule = PermissionRule(roles=roles)

    async def dependency(request: Request) -> Principal:
        principal = authenticated(request)
        check(principal, rule)
        return principal

    return dependency


async def current(request: Request) -> Principal:
    return authenticated(request)


PrincipalDep = Annotated[Principal, Depends(current)]


def check_routes(app: FastAPI, permissions: dict[str, PermissionRule]) -> None:
    """Stop the start-up when a route needs a permission AUTH_PERMISSIONS does not define."""
    unmapped = sorted(
        f"{name} ({', '.join(sorted(route.methods or ()))} {route.path})"
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        for name in required_permissions(route.original_route)
        if name not in permissions
    )
    if unmapped:
        raise RuntimeError("AUTH_PERMISSIONS does not say who holds: " + "; ".join(unmapped))
