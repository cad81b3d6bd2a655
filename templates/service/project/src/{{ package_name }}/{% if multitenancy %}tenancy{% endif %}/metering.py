"""Metering: each tenant's requests per billing period (a calendar month, UTC), kept durably.

The middleware counts a tenant's requests in memory (`UsageMeter.count`, no I/O on the request
path); the in-app process `tenant-usage` adds the counts to `tenant_usage` every
TENANT_USAGE_FLUSH_SECONDS, and once more when the app stops. Each tenant's counts are written
in a transaction acting for it (the table is under row-level security like the items), with an
upsert that adds, so any number of processes may flush at once. A process that dies loses at
most its last interval. Items stored are counted when asked (`GET /tenant/usage`).

With billing, each tenant's written count is then reported to Stripe's billing meter as one
meter event for its customer; a report Stripe refuses is logged (the count stays in
`tenant_usage`, where it can be reconciled) and never written twice.
"""

import asyncio
import logging
from collections import Counter
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


def billing_period(now: datetime | None = None) -> date:
    """The first day of the current month (UTC): the period usage is aggregated by."""
    return (now or datetime.now(UTC)).date().replace(day=1)


class UsageMeter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], billing: Billing) -> None:
        self._sessions = sessions
        self._billing = billing
        self._pending: Counter[tuple[str, str, date]] = Counter()
        self.requests_by_plan: Counter[str] = Counter()
        """Requests metered since start, by plan (the metrics' label: never the tenant)."""
        self.reports: Counter[str] = Counter()
        """Usage reports to Stripe since start, by outcome (`reported`, `failed`)."""

    def count(self, tenant: ActiveTenant) -> None:
        self._pending[(tenant.id, tenant.plan, billing_period())] += 1
        self.requests_by_plan[tenant.plan] += 1

    async def flush(self) -> None:
        pending, self._pending = self._pending, Counter()
        for (tenant_id, plan, period), requests in pending.items():
            try:
                with acting_for(ActiveTenant(tenant_id, plan, rules=NO_RULES)):
                    async with self._sessions() as session:
                        await session.execute(
                            ADD_REQUESTS, {"period": period, "requests": requests}
                        )
                        customer = await session.scalar(
                            select(Tenant.stripe_customer_id).where(Tenant.id == tenant_id)
                        )
                        await session.commit()
            except Exception:  # keep the count for the next flush rather than lose it
                self._pending[(tenant_id, plan, period)] += requests
                logger.exception("tenant usage not written; kept for the next flush")
                continue
            if self._billing.enabled and customer:
                await self.report(tenant_id, customer, requests)

    async def report(self, tenant_id: str, customer: str, requests: int) -> None:
        try:
            await self._billing.report_usage(customer, requests)
        except stripe.StripeError:
            self.reports["failed"] += 1
            logger.exception("tenant usage not reported to Stripe", extra={"tenant": tenant_id})
        else:
            self.reports["reported"] += 1


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
