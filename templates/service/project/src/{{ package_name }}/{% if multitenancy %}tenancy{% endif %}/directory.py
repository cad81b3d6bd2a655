"""The tenants this service knows, read through a short in-process cache.

Every request of a tenant needs its plan and status: they are read from `tenants` at most once
per `TENANT_CACHE_SECONDS` per process. A change made here (suspension, a new plan) is seen at
once by this process and within that many seconds by the others.
"""

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

    async def find(self, tenant_id: str) -> TenantRecord | None:
        now = time.monotonic()
        cached = self._known.get(tenant_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(Tenant.id, Tenant.plan, Tenant.status).where(Tenant.id == tenant_id)
                )
            ).first()
        record = TenantRecord(row.id, row.plan, row.status) if row else None
        if self._ttl > 0:
            self._known[tenant_id] = (now + self._ttl, record)
        return record

    def forget(self, tenant_id: str) -> None:
        self._known.pop(tenant_id, None)
