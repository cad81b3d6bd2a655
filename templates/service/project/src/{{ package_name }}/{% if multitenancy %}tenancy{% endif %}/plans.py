"""Per-plan features and limits (TENANT_PLANS): `require_feature(...)`, and the item limit.

- `require_feature("items:export")` is a route dependency: 403 unless the caller's plan has it.
- `enforce_item_limit` is an items `writing` hook: inside the create's transaction, after the
  insert, it counts the tenant's items (row-level security counts only theirs) and refuses the
  one past the plan's `max_items` with a 403 problem document; the insert rolls back with it.
  A transaction-scoped advisory lock per tenant makes concurrent creates count one at a time.
"""

from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any

from fastapi import HTTPException
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ..items.hooks import ItemChange
from ..items.models import Item
from ..problems import ProblemError
from .authorization import NO_TENANT
from .context import ActiveTenant, current_tenant

LOCK_TENANT = text("SELECT pg_advisory_xact_lock(hashtextextended('tenant-items:' || :t, 0))")


class PlanLimitError(ProblemError):
    status = HTTPStatus.FORBIDDEN


def require_feature(feature: str) -> Callable[[], Coroutine[Any, Any, ActiveTenant]]:
    """`tenant: Annotated[ActiveTenant, Depends(require_feature("items:export"))]`."""

    async def dependency() -> ActiveTenant:
        tenant = current_tenant()
        if tenant is None:
            raise HTTPException(HTTPStatus.FORBIDDEN, NO_TENANT)
        if feature not in tenant.rules.features:
            raise HTTPException(
                HTTPStatus.FORBIDDEN, f"The {tenant.plan} plan does not include {feature}."
            )
        return tenant

    return dependency


async def enforce_item_limit(session: AsyncSession, change: ItemChange) -> None:
    tenant = current_tenant()
    if change.kind != "created" or tenant is None or tenant.rules.max_items is None:
        return
    await session.execute(LOCK_TENANT, {"t": tenant.id})
    held = await session.scalar(select(func.count()).select_from(Item))
    if (held or 0) > tenant.rules.max_items:
        raise PlanLimitError(
            f"The {tenant.plan} plan holds at most {tenant.rules.max_items} items."
        )
