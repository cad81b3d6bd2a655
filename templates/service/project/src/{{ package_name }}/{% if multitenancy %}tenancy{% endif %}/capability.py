"""Multi-tenancy in the capability protocol.

- lifespan: `app.state.tenants`, the directory of tenants (plan, status), cached briefly, and
  `app.state.tenant_usage`, the requests counted per tenant (flushed by the in-app process
  `tenant-usage`, see `metering.py`);
- middleware at 25: the tenant of the verified token (after authentication at 20, before the
  rate limiter at 30, which then counts per tenant and labels by plan);
- routers: tenant lifecycle (`admin` role) and `GET /tenant`;
- extension points: `tenant` and `plan` (so `scope_key()` keys caches, buckets and messages per
  tenant), `authorize` (every permission needs a tenant), `session_begin` (`SET LOCAL
  app.tenant_id` in every transaction), the items `writing` hook of the plan's item limit,
  `message_headers` / `message_received` (messages carry the tenant), `log_fields`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..capability import Capability, Middleware, Process
from ..extensions import Extensions
from .authorization import requiring_a_tenant
from .context import current_plan, current_tenant_id
from .database import set_tenant
from .directory import TenantDirectory
from .messages import tenant_headers, tenant_log_fields, tenant_of_message
from .metering import UsageMeter, flush_usage
from .middleware import POSITION, tenancy_middleware
from .plans import enforce_item_limit
from .router import router


@asynccontextmanager
async def tenancy_lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings
    app.state.tenants = TenantDirectory(app.state.sessionmaker, settings.tenant_cache_seconds)
    app.state.tenant_usage = UsageMeter(app.state.sessionmaker)
    yield


def extend(extensions: Extensions) -> None:
    extensions.tenant = current_tenant_id
    extensions.plan = current_plan
    extensions.authorize = requiring_a_tenant(extensions.authorize)
    extensions.session_begin.append(set_tenant)
    extensions.items.writing.append(enforce_item_limit)
    extensions.message_headers.append(tenant_headers)
    extensions.message_received.append(tenant_of_message)
    extensions.log_fields.append(tenant_log_fields)


CAPABILITY = Capability(
    name="multitenancy",
    lifespan=tenancy_lifespan,
    routers=(router,),
    middleware=(Middleware(POSITION, tenancy_middleware),),
    processes=(Process("tenant-usage", flush_usage, in_app=True),),
    extend=extend,
)
