"""Permissions: every protected endpoint names the permission it needs, e.g. "items:write".

Who holds a permission is decided by the `authorize` extension point (`extensions.py`): without
an authentication capability everyone does; with one, scopes and roles of the verified caller
decide, and a refusal is a 401 or 403 problem document.
"""

from fastapi import Request
from fastapi.params import Depends

from .extensions import extensions_of


def permission(name: str) -> Depends:
    """A route dependency: `@router.get(..., dependencies=[permission("items:read")])`."""

    async def authorize(request: Request) -> None:
        await extensions_of(request).authorize(request, name)

    return Depends(authorize)
