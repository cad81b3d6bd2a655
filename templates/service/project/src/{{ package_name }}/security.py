"""Permissions: every protected endpoint names the permission it needs, e.g. "items:write".

Who holds a permission is decided by the `authorize` extension point (`extensions.py`): without
an authentication capability everyone does; with one, scopes and roles of the verified caller
decide, and a refusal is a 401 or 403 problem document.

`required_permissions(route)` reads them back from a route, so tools and tests can list which
route needs what (an authentication capability checks at start-up that each one is defined).
"""

from fastapi import Request
from fastapi.params import Depends
from fastapi.routing import APIRoute

from .extensions import extensions_of


class Permission:
    """The dependency `permission(name)` adds to a route; `name` stays readable."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def __call__(self, request: Request) -> None:
        await extensions_of(request).authorize(request, self.name)


def permission(name: str) -> Depends:
    """A route dependency: `@router.get(..., dependencies=[permission("items:read")])`."""
    return Depends(Permission(name))


def required_permissions(route: APIRoute) -> list[str]:
    """The permissions `route` names, through every level of its dependencies."""
    found: list[str] = []
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, Permission):
            found.append(dependant.call.name)
        pending.extend(dependant.dependencies)
    return sorted(found)
