"""The tenants this service knows, read through a short in-process cache.

Every request of a tenant needs its plan and status: they are read from `tenants` at most once
per `TENANT_CACHE_SECONDS` per process. A change made here (suspension, a new plan) is seen at
once by this process and within that many seconds by the others.

When a tenant's entry expires under load, every request in flight would miss it at once and
read the same row, each on a connection of its own (a stampede that outgrows the pool every
few seconds): so one read per tenant is in flight at a time, and the others wait for it.
"""

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .models import Tenant


@dataclass(frozen=True, slots=True)
class TenantRecord:
    id: str
    plan: str
    status: str

    @property
    def suspended(self) -> bool:
        return self.status != "active"


class TenantDirectory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_seconds: float) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._known: dict[str, tuple[float, TenantRecord | None]] = {}
        self._reading: dict[str, asyncio.Future[TenantRecord | None]] = {}

    async def find(self, tenant_id: str) -> TenantRecord | None:
        cached = self._known.get(tenant_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        reading = self._reading.get(tenant_id)
        if reading is None:
            reading = asyncio.ensure_future(self._read(tenant_id, time.monotonic() + self._ttl))
            self._reading[tenant_id] = reading
            reading.add_done_callback(lambda done: self._read_done(tenant_id, done))
        # Shielded: a caller that goes away (a client disconnecting) leaves the read to the rest.
        return await asyncio.shield(reading)

    async def _read(self, tenant_id: str, expires: float) -> TenantRecord | None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(Tenant.id, Tenant.plan, Tenant.status).where(Tenant.id == tenant_id)
                )
            ).first()
        record = TenantRecord(row.id, row.plan, row.status) if row else None
        if self._ttl > 0 and self._reading.get(tenant_id) is asyncio.current_task():
            self._known[tenant_id] = (expires, record)
        return record

    def _read_done(self, tenant_id: str, reading: asyncio.Future[TenantRecord | None]) -> None:
        if self._reading.get(tenant_id) is reading:
            del self._reading[tenant_id]
        if not reading.cancelled():
            reading.exception()  # the waiters got it; retrieved, so asyncio does not log it

    def forget(self, tenant_id: str) -> None:
        """After a change here: the next request reads the tenant again, even one whose read
        began before the change (that read's result is not cached)."""
        self._known.pop(tenant_id, None)
        self._reading.pop(tenant_id, None)
