"""Multi-tenancy's part of the `shard_key` extension point, which sharding reads.

Every row of a tenant lives on the shard of its id: its directory entry (`tenants.id`), its
items and its usage (`tenant_id`), so one shard answers all of a request's reads and a move of
the tenant's bucket takes all of it. The work's current key is the tenant it acts for.
`stripe_events` is no tenant's: the webhook records an event on the tenant's shard (acting for
it, with the plan change) and copies it to every shard (a statement naming no shard key), so a
redelivery finds it after a move of the tenant's bucket (see webhooks.py).

A transaction sees a tenant's rows only while acting for it (row-level security binds the
migrations' role too), so resharding moves a batch of buckets tenant by tenant: the tenants of
the batch read from `tenants` (which has no row-level security), each in a transaction given
its tenant with `SET LOCAL`. No role that bypasses the policies is needed (see the docs).
A tenant-owned row whose tenant has no `tenants` row on its shard is not moved.
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..extensions import InBuckets, ShardKey
from .context import current_tenant_id
from .database import SET_TENANT
from .models import Tenant

TENANT_SHARD_KEY = {"tenants": "id", "items": "tenant_id", "tenant_usage": "tenant_id"}


async def tenants_in(connection: AsyncConnection, in_buckets: InBuckets) -> list[str]:
    """The tenants whose bucket is one of these, on the connection's database."""
    found = await connection.scalars(select(Tenant.id).where(in_buckets(Tenant.__table__.c.id)))
    return list(found)


async def act_for_tenant(connection: AsyncConnection, tenant: str) -> None:
    await connection.execute(SET_TENANT, {"tenant": tenant})


def place_by_tenant(shard_key: ShardKey) -> None:
    shard_key.columns.update(TENANT_SHARD_KEY)
    shard_key.current = current_tenant_id
    shard_key.keys_in = tenants_in
    shard_key.act_for = act_for_tenant
