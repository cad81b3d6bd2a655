"""The tenant of each transaction: `SET LOCAL app.tenant_id`, the `session_begin` extension point.

`set_config(..., true)` is `SET LOCAL`: it ends with the transaction, so a pooled connection
never carries one tenant into the next request. Without a tenant nothing is set, and the
row-level security policies of the migrations show no tenant-owned row at all.

On the service's engines (`database_connect_args`: `TenantConnection`) the tenant travels in the
same message as the transaction's `BEGIN`, one round trip fewer per transaction than a statement
of its own (benchmarks/rls_overhead.py). The tenant sent is the one current when the `BEGIN` is
sent, in the task sending it, so the hook, which runs before (SQLAlchemy begins lazily), sends
nothing then. Elsewhere (a connection of another class, or one already in its transaction) the
hook sends `set_config` with a bound parameter, as it always did.

The hook may run again inside one transaction (a consumer handles a batch of messages in one,
each as its own message's tenant): when a message without a tenant follows one with a tenant,
the setting is emptied, so it does not act for the earlier message's tenant. A connection
remembers (in its `info`, or the `BEGIN` on the connection itself) that it was given a tenant,
so only those pay for the reset.
"""

import re
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import text
from sqlalchemy.engine import Connection

from .config import TENANT_ID_PATTERN
from .context import current_tenant_id

SET_TENANT = text("SELECT set_config('app.tenant_id', :tenant, true)")
GIVEN_A_TENANT = "tenancy.given_a_tenant"
# What asyncpg's Transaction.start sends to open a transaction (a savepoint is `SAVEPOINT`).
BEGIN = re.compile(r"BEGIN[A-Z ]*;")
# Only ids of these characters go into SQL text: a literal of them needs no escaping, whatever
# `standard_conforming_strings` says. Any other id is sent as a bound parameter by the hook.
SENT_WITH_BEGIN = re.compile(TENANT_ID_PATTERN)


def sent_with_begin(tenant: str | None) -> bool:
    """Whether a BEGIN sends this tenant (None: there is none to send)."""
    return tenant is None or SENT_WITH_BEGIN.fullmatch(tenant) is not None


class TenantConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection whose transactions begin acting for the current tenant."""

    began_for_a_tenant = False
    """Whether the `BEGIN` of its latest transaction set a tenant."""

    async def execute(  # asyncpg's signature
        self,
        query: str,
        *args: Any,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Any:
        if args or not BEGIN.fullmatch(query):
            return await super().execute(query, *args, timeout=timeout)
        tenant = current_tenant_id()
        self.began_for_a_tenant = False
        if tenant is None or not sent_with_begin(tenant):
            return await super().execute(query, timeout=timeout)
        literal = "'" + tenant.replace("'", "''") + "'"  # quoted all the same
        try:
            status = await super().execute(
                f"{query} SELECT set_config('app.tenant_id', {literal}, true);", timeout=timeout
            )
        except BaseException:
            # The BEGIN may have run and the rest not: asyncpg and SQLAlchemy count the
            # transaction as never started, so nothing would roll it back. Never reused.
            self.terminate()
            raise
        self.began_for_a_tenant = True
        return status


def set_tenant(connection: Connection) -> None:
    tenant = current_tenant_id()
    driver = connection.connection.driver_connection
    # Not isinstance: asyncpg's metaclass makes every asyncpg connection pass for any subclass.
    ours: TenantConnection | None = driver if issubclass(type(driver), TenantConnection) else None
    if ours is not None and not ours.is_in_transaction() and sent_with_begin(tenant):
        # The BEGIN, sent with the transaction's first statement, sets the tenant current
        # then (or none); what an earlier transaction was given ended with it.
        connection.info.pop(GIVEN_A_TENANT, None)
        return
    given = connection.info.pop(GIVEN_A_TENANT, False)
    if tenant is not None:
        connection.execute(SET_TENANT, {"tenant": tenant})
        connection.info[GIVEN_A_TENANT] = True
    elif given or (ours is not None and ours.began_for_a_tenant):
        # Empty matches no tenant (the policies' NULLIF), as a transaction with none set.
        connection.execute(SET_TENANT, {"tenant": ""})
        if ours is not None:
            ours.began_for_a_tenant = False
