"""The tenant of each transaction: `SET LOCAL app.tenant_id`, the `session_begin` extension point.

`set_config(..., true)` is `SET LOCAL` with a bound parameter: it ends with the transaction, so
a pooled connection never carries one tenant into the next request. Without a tenant nothing is
set, and the row-level security policies of the migrations show no tenant-owned row at all.
"""

from sqlalchemy import text
from sqlalchemy.engine import Connection

from .context import current_tenant_id

SET_TENANT = text("SELECT set_config('app.tenant_id', :tenant, true)")


def set_tenant(connection: Connection) -> None:
    tenant = current_tenant_id()
    if tenant is not None:
        connection.execute(SET_TENANT, {"tenant": tenant})
