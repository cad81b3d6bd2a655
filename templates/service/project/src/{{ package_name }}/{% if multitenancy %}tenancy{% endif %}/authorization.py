"""Routes that name a permission act for a tenant: the `authorize` extension point, wrapped.

Authentication decides first (401, 403 on scopes and roles); then a caller without a tenant is
refused with a 403 problem document. Tenant administration uses `require_roles("admin")`, not a
named permission, so an operator without a tenant can still create and suspend tenants.
"""

from http import HTTPStatus

from fastapi import HTTPException, Request

from ..auth.authorization import authenticated
from ..extensions import Authorizer
from .context import ActiveTenant, current_tenant

NO_TENANT = "The caller acts for no tenant."


def requiring_a_tenant(authorize: Authorizer) -> Authorizer:
    async def authorize_for_a_tenant(request: Request, permission: str) -> None:
        await authorize(request, permission)
        if current_tenant() is None:
            raise HTTPException(HTTPStatus.FORBIDDEN, NO_TENANT)

    return authorize_for_a_tenant


async def requiring_tenant(request: Request) -> ActiveTenant:
    """A route dependency: the caller's tenant (401 without credentials, 403 without a tenant)."""
    authenticated(request)
    tenant = current_tenant()
    if tenant is None:
        raise HTTPException(HTTPStatus.FORBIDDEN, NO_TENANT)
    return tenant
