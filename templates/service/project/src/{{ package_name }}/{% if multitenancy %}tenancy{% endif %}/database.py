"""The tenant of each transaction: `SET LOCAL app.tenant_id`, the `session_begin` extension point.

`set_config(..., true)` is `SET LOCAL` with a bound parameter: it ends with the transaction, so
a pooled connection never carries one tenant into the next request. Without a tenant nothing is
set, and the row-level security policies of the migrations show no tenant-owned row at all.

The hook may run again inside one transaction (a consumer handles a batch of messages in one,
each as its own message's tenant): when a message without a tenant follows one with a tenant,
the setting is emptied, so it does not act for the earlier message's tenant. A connection
remembers (in its `info`) that it was given a tenant, so only those pay for the reset.
"""

from sqlalchemy import text
from sqlalchemy.engine import Connection

from .context import current_tenant_id

SET_TENANT = text("SELECT set_config('app.tenant_id', :tenant, true)")
GIVEN_A_TENANT = "tenancy.given_a_tenant"


def set_tenant(connection: Connection) -> None:
    tenant = current_tenant_id()
    if tenant is not None:
        connection.execute(SET_TENANT, {"tenant": tenant})
        connection.info[GIVEN_A_TENANT] = True
    elif connection.info.pop(GIVEN_A_TENANT, False):
        # Empty matches no tenant (the policies' NULLIF), as a transaction with none set.
        connection.execute(SET_TENANT, {"tenant": ""})
