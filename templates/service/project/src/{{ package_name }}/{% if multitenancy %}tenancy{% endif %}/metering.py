"""Metering: each tenant's requests per billing period (a calendar month, UTC), kept durably.

The middleware counts a tenant's requests in memory (`UsageMeter.count`, no I/O on the request
path); the in-app process `tenant-usage` adds the counts to `tenant_usage` every
TENANT_USAGE_FLUSH_SECONDS, and once more when the app stops. Each tenant's counts are written
in a transaction acting for it (the table is under row-level security like the items), with an
upsert that adds, so any number of processes may flush at once. What that leaves durable:
a process stopped with SIGTERM (ECS, Docker; uvicorn runs the app's shutdown) writes every
request it served; one killed (SIGKILL, the OOM killer, a lost host) loses the requests it
counted since its last flush, at most one interval's while the database takes the writes (a
flush that fails keeps its counts in memory for the next, so during an outage a kill loses what
was counted since it began). Items stored are rows, counted when asked (`GET /tenant/usage`).
tests/integration/tenancy/test_metering_process.py stops and kills real processes to show it.

With billing, the flush then reports each tenant's counted requests to Stripe's billing meter
in chunks: under a row lock, the next chunk (`reported` .. `requests`) is fixed in the row
(`reporting`) before it is sent, and `reported` moves to its end once Stripe takes it. A report
that fails (Stripe refusing, the network) leaves the chunk in the row; the next flush sends the
same chunk again, with the same identifier and idempotency key (the tenant, period and chunk
start), so Stripe counts it once however often it is resent, by any process.
"""

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime

import stripe
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .billing import Billing
from .config import PlanRules
from .context import ActiveTenant, acting_for
from .models import Tenant

logger = logging.getLogger(__name__)
NO_RULES = PlanRules()  # the flush writes usage; it enforces nothing
ADD_REQUESTS = text(
    "INSERT INTO tenant_usage (period, requests) VALUES (:period, :requests) "
    "ON CONFLICT (tenant_id, period) "
    "DO UPDATE SET requests = tenant_usage.requests + excluded.requests"
)
# Row-level security keeps these to the tenant the transaction acts for.
USAGE_TO_REPORT = text(
    "SELECT requests, reported, reporting FROM tenant_usage WHERE period = :period FOR UPDATE"
)
START_CHUNK = text("UPDATE tenant_usage SET reporting = :end WHERE period = :period")
CHUNK_TAKEN = text(
    "UPDATE tenant_usage SET reported = GREATEST(reported, :end) WHERE period = :period "
    "RETURNING requests > reported"
)
UsageKey = tuple[str, str, date]
"""(tenant id, plan, billing period)."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """Requests `start` (excluded) to `end` (included) of a tenant's period, as one report."""

    tenant_id: str
    period: date
    start: int
    end: int

    @property
    def identifier(self) -> str:
        """The meter event's identifier and the call's idempotency key: the same for every
        resend of this chunk (at most 64 + 1 + 6 + 1 + 19 characters: Stripe allows 100)."""
        return f"{self.tenant_id}:{self.period:%Y%m}:{self.start}"


def billing_period(now: datetime | None = None) -> date:
    """The first day of the current month (UTC): the period usage is aggregated by."""
    return (now or datetime.now(UTC)).date().replace(day=1)


class UsageMeter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], billing: Billing) -> None:
        self._sessions = sessions
        self._billing = billing
        self._pending: Counter[UsageKey] = Counter()
        self._unreported: set[UsageKey] = set()
        """Usage whose report failed: reported again at the next flush, new requests or not."""
        self.requests_by_plan: Counter[str] = Counter()
        """Requests metered since start, by plan (the metrics' label: never the tenant)."""
        self.reports: Counter[str] = Counter()
        """Usage reports to Stripe since start, by outcome (`reported`, `failed`)."""

    def count(self, tenant: ActiveTenant) -> None:
        self._pending[(tenant.id, tenant.plan, billing_period())] += 1
        self.requests_by_plan[tenant.plan] += 1

    async def flush(self) -> None:
        pending, self._pending = self._pending, Counter()
        retried, self._unreported = self._unreported, set()
        for key in [*pending, *(retried - pending.keys())]:
            await self._flush_one(key, pending[key])

    async def _flush_one(self, key: UsageKey, requests: int) -> None:
        tenant_id, plan, period = key
        try:
            with acting_for(ActiveTenant(tenant_id, plan, rules=NO_RULES)):
                async with self._sessions() as session:
                    if requests:
                        await session.execute(
                            ADD_REQUESTS, {"period": period, "requests": requests}
                        )
                    customer = await session.scalar(
                        select(Tenant.stripe_customer_id).where(Tenant.id == tenant_id)
                    )
                    chunk = None
                    if self._billing.enabled and customer:
                        chunk = await next_chunk(session, tenant_id, period)
                    await session.commit()
        except Exception:  # keep the count for the next flush rather than lose it
            self._pending[key] += requests
            self._unreported.add(key)
            logger.exception("tenant usage not written; kept for the next flush")
            return
        if chunk is not None and customer and await self.report(customer, chunk):
            await self._taken(key, chunk)
        elif chunk is not None:
            self._unreported.add(key)

    async def report(self, customer: str, chunk: Chunk) -> bool:
        """Send one chunk; False (logged, counted) when Stripe did not take it."""
        try:
            await self._billing.report_usage(
                customer, chunk.end - chunk.start, identifier=chunk.identifier
            )
        except stripe.StripeError:
            self.reports["failed"] += 1
            logger.exception(
                "tenant usage not reported to Stripe; sent again at the next flush",
                extra={"tenant": chunk.tenant_id},
            )
            return False
        self.reports["reported"] += 1
        return True

    async def _taken(self, key: UsageKey, chunk: Chunk) -> None:
        tenant_id, plan, period = key
        try:
            with acting_for(ActiveTenant(tenant_id, plan, rules=NO_RULES)):
                async with self._sessions() as session:
                    more = await session.scalar(CHUNK_TAKEN, {"period": period, "end": chunk.end})
                    await session.commit()
            if more:  # a resent chunk: what was counted since goes at the next flush
                self._unreported.add(key)
        except Exception:  # the same chunk is sent again: Stripe knows its identifier
            self._unreported.add(key)
            logger.exception("tenant usage report not recorded; sent again at the next flush")


async def next_chunk(session: AsyncSession, tenant_id: str, period: date) -> Chunk | None:
    """The chunk to report now, fixed in the row (locked until the caller commits): the one a
    failed report left, else the requests counted since the last one; None: all reported."""
    row = (await session.execute(USAGE_TO_REPORT, {"period": period})).one_or_none()
    if row is None:
        return None
    requests, reported, reporting = row
    if reporting > reported:
        return Chunk(tenant_id, period, reported, reporting)
    if requests > reported:
        await session.execute(START_CHUNK, {"period": period, "end": requests})
        return Chunk(tenant_id, period, reported, requests)
    return None


async def flush_usage(app: FastAPI) -> None:
    """The `tenant-usage` in-app process: flush every interval, and once more at shutdown."""
    meter: UsageMeter = app.state.tenant_usage
    interval = app.state.settings.tenant_usage_flush_seconds
    try:
        while True:
            await asyncio.sleep(interval)
            await meter.flush()
    finally:
        await asyncio.shield(meter.flush())
