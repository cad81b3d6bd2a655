"""Multi-tenancy in the capability protocol.

- lifespan: `app.state.tenants`, the directory of tenants (plan, status), cached briefly, and
  `app.state.tenant_usage`, the requests counted per tenant (flushed by the in-app process
  `tenant-usage`, see `metering.py`);
- middleware at 25: the tenant of the verified token (after authentication at 20, before the
  rate limiter at 30, which then holds each caller to its plan's quota and labels by plan);
- routers: tenant lifecycle (`admin` role), `GET /tenant`, and Stripe's webhook
  (`webhooks.py`); with STRIPE_API_KEY, `app.state.billing` gives each new tenant a Stripe
  customer and subscription and reports the metered requests (`billing.py`);
- extension points: `tenant` and `plan` (so `scope_key()` keys caches, rate-limit buckets and
  messages per tenant), `rate_quota` (the plan's rate-limit quotas), `authorize` (every
  permission needs a tenant), `session_begin` (`SET LOCAL app.tenant_id` in every
  transaction) and `database_connect_args` (the tenant sent with each transaction's BEGIN),
  the items `writing` hook of the plan's item limit, `message_headers` /
  `message_received` (messages carry the tenant), `log_fields`, and `shard_key`: with
  sharding, a tenant's rows live on the shard of its id, and move tenant by tenant
  (`shard_key.py`);
- metrics: requests, Stripe usage reports and webhook events, labelled by plan or outcome
  (`metrics.py`), never by tenant.
"""

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..capability import Capability, Middleware, Process
from ..extensions import Extensions
from .authorization import requiring_a_tenant
from .billing import Billing
from .context import current_plan, current_quota, current_tenant_id
from .database import TenantConnection, set_tenant
from .directory import TenantDirectory
from .messages import tenant_headers, tenant_log_fields, tenant_of_message
from .metering import UsageMeter, flush_usage
from .metrics import tenancy_metrics
from .middleware import POSITION, tenancy_middleware
from .plans import enforce_item_limit
from .router import router
from .shard_key import place_by_tenant
from .webhooks import router as webhook_router


@asynccontextmanager
async def tenancy_lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings
    app.state.tenants = TenantDirectory(app.state.sessionmaker, settings.tenant_cache_seconds)
    app.state.billing = billing = Billing(settings)
    app.state.stripe_webhook_outcomes = Counter[str]()
    app.state.tenant_usage = UsageMeter(app.state.sessionmaker, billing)
    try:
        yield
    finally:
        await billing.close()


def extend(extensions: Extensions) -> None:
    extensions.tenant = current_tenant_id
    extensions.plan = current_plan
    extensions.rate_quota = current_quota
    extensions.authorize = requiring_a_tenant(extensions.authorize)
    extensions.session_begin.append(set_tenant)
    extensions.database_connect_args["connection_class"] = TenantConnection
    extensions.items.writing.append(enforce_item_limit)
    extensions.message_headers.append(tenant_headers)
    extensions.message_received.append(tenant_of_message)
    extensions.log_fields.append(tenant_log_fields)
    place_by_tenant(extensions.shard_key)


CAPABILITY = Capability(
    name="multitenancy",
    lifespan=tenancy_lifespan,
    routers=(router, webhook_router),
    middleware=(Middleware(POSITION, tenancy_middleware),),
    processes=(Process("tenant-usage", flush_usage, in_app=True),),
    metrics=tenancy_metrics,
    extend=extend,
)
