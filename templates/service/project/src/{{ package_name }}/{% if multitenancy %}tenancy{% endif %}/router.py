"""Tenant lifecycle (callers with the `admin` role, who need no tenant of their own) and the
caller's own tenant.

- `POST /tenants` creates a tenant on a plan; `PATCH /tenants/{id}` moves its plan or suspends
  it (`status: suspended`: every request of its users is refused with 403) and reactivates it;
  with billing (STRIPE_API_KEY), its Stripe customer and subscription are created first
  (a 502 problem document, and no tenant, when Stripe refuses);
- `DELETE /tenants/{id}` deletes its data: every tenant-owned row, inside one transaction that
  acts for that tenant (so row-level security lets it reach those rows and no others), then the
  tenant itself; its tokens are refused from then on (an unknown tenant); with billing, its
  Stripe customer is deleted first, which cancels its subscription;
- `GET /tenant`: the caller's tenant, its plan's features and limits, and how many items it holds;
- `GET /tenant/usage`: its metered requests per billing period, and the items it stores.
"""

from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import delete, func, select

from ..auth.authorization import require_roles
from ..database import SessionDep
from ..items.models import Item
from ..problems import PROBLEM_MEDIA_TYPE, ProblemError
from .authorization import requiring_tenant
from .billing import Billing
from .config import PlanRules
from .context import ActiveTenant, acting_for
from .database import SET_TENANT
from .directory import TenantDirectory
from .models import Tenant, TenantUsage
from .schemas import OwnTenant, TenantCreate, TenantRead, TenantUpdate, Usage, UsagePeriod

router = APIRouter(tags=["tenants"])
ADMIN = [Depends(require_roles("admin"))]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    HTTPStatus.NOT_FOUND.value: {
        "description": "No such tenant",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    }
}


class TenantNotFoundError(ProblemError):
    status = HTTPStatus.NOT_FOUND


class TenantExistsError(ProblemError):
    status = HTTPStatus.CONFLICT


class UnknownPlanError(ProblemError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY


def directory_of(request: Request) -> TenantDirectory:
    directory: TenantDirectory = request.app.state.tenants
    return directory


def known_plan(request: Request, plan: str) -> str:
    if plan not in request.app.state.settings.tenant_plans:
        raise UnknownPlanError(f"No plan named {plan!r} in TENANT_PLANS.")
    return plan


async def found(session: SessionDep, tenant_id: str) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise TenantNotFoundError(f"Tenant {tenant_id} does not exist.")
    return tenant


@router.post("/tenants", status_code=HTTPStatus.CREATED, dependencies=ADMIN)
async def create_tenant(
    tenant_in: TenantCreate, session: SessionDep, request: Request, response: Response
) -> TenantRead:
    if await session.get(Tenant, tenant_in.id) is not None:
        raise TenantExistsError(f"Tenant {tenant_in.id} exists.")
    plan = known_plan(request, tenant_in.plan or request.app.state.settings.tenant_default_plan)
    tenant = Tenant(id=tenant_in.id, name=tenant_in.name, plan=plan, status="active")
    billing: Billing = request.app.state.billing
    if billing.enabled:
        account = await billing.subscribe(tenant.id, tenant.name, plan)
        tenant.stripe_customer_id = account.customer_id
        tenant.stripe_subscription_id = account.subscription_id
    session.add(tenant)
    await session.commit()
    await session.refresh(tenant)
    directory_of(request).forget(tenant.id)
    response.headers["Location"] = f"/tenants/{tenant.id}"
    return TenantRead.model_validate(tenant)


@router.get("/tenants/{tenant_id}", dependencies=ADMIN, responses=NOT_FOUND)
async def get_tenant(tenant: Annotated[Tenant, Depends(found)]) -> TenantRead:
    return TenantRead.model_validate(tenant)


@router.patch("/tenants/{tenant_id}", dependencies=ADMIN, responses=NOT_FOUND)
async def update_tenant(
    tenant: Annotated[Tenant, Depends(found)],
    tenant_in: TenantUpdate,
    session: SessionDep,
    request: Request,
) -> TenantRead:
    if tenant_in.plan is not None:
        tenant.plan = known_plan(request, tenant_in.plan)
    if tenant_in.status is not None:
        tenant.status = tenant_in.status
    await session.commit()
    directory_of(request).forget(tenant.id)
    return TenantRead.model_validate(tenant)


@router.delete(
    "/tenants/{tenant_id}",
    status_code=HTTPStatus.NO_CONTENT,
    dependencies=ADMIN,
    responses=NOT_FOUND,
)
async def delete_tenant(
    tenant: Annotated[Tenant, Depends(found)], session: SessionDep, request: Request
) -> None:
    billing: Billing = request.app.state.billing
    if billing.enabled and tenant.stripe_customer_id:
        await billing.close_account(tenant.stripe_customer_id)
    # Its rows first, in this same transaction, acting for it: row-level security reaches them
    # (and, sharded, the statements go to its shard, whichever tenant the admin acts for).
    with acting_for(ActiveTenant(tenant.id, tenant.plan, PlanRules())):
        await session.execute(SET_TENANT, {"tenant": tenant.id})
        # named too, not left to the policies alone: a role that bypasses them deletes no more
        await session.execute(delete(Item).where(Item.__table__.c.tenant_id == tenant.id))
        await session.execute(delete(TenantUsage).where(TenantUsage.tenant_id == tenant.id))
        await session.delete(tenant)
        await session.commit()
    directory_of(request).forget(tenant.id)


@router.get("/tenant")
async def own_tenant(
    tenant: Annotated[ActiveTenant, Depends(requiring_tenant)], session: SessionDep
) -> OwnTenant:
    items = await session.scalar(select(func.count()).select_from(Item))
    return OwnTenant(
        id=tenant.id,
        plan=tenant.plan,
        features=sorted(tenant.rules.features),
        max_items=tenant.rules.max_items,
        items=items or 0,
    )


@router.get("/tenant/usage")
async def own_usage(
    tenant: Annotated[ActiveTenant, Depends(requiring_tenant)], session: SessionDep
) -> Usage:
    """The caller's tenant's metered requests per billing period (as flushed so far: up to
    TENANT_USAGE_FLUSH_SECONDS behind), and the items it stores now."""
    rows = await session.execute(
        select(TenantUsage.period, TenantUsage.requests).order_by(TenantUsage.period.desc())
    )
    items = await session.scalar(select(func.count()).select_from(Item))
    periods = [UsagePeriod(period=row.period, requests=row.requests) for row in rows]
    return Usage(tenant=tenant.id, items=items or 0, periods=periods)
