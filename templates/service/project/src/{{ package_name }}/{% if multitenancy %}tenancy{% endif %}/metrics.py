"""Multi-tenancy's metric families (exported by `observability` when it is present).

Labelled by plan, never by tenant: the plans are few and come from TENANT_PLANS, while tenants
are unbounded. Every plan's series exists from the start, at 0.

- `tenancy_requests_total{plan}`: requests of tenants, metered;
- `tenancy_stripe_usage_reports_total{outcome}`: usage reports to Stripe, `reported`/`failed`;
- `tenancy_stripe_webhook_events_total{outcome}`: Stripe events received, by what became of them
  (`processed`, `duplicate`, `ignored`, `refused`: a bad signature or a stale timestamp).
"""

from collections import Counter
from collections.abc import Iterable
from typing import cast

from fastapi import FastAPI

from ..capability import Metric, Sample
from .metering import UsageMeter

REPORT_OUTCOMES = ("reported", "failed")
WEBHOOK_OUTCOMES = ("processed", "duplicate", "ignored", "refused")


def by_label(label: str, keys: Iterable[str], counts: Counter[str]) -> tuple[Sample, ...]:
    return tuple(Sample({label: key}, counts[key]) for key in sorted({*keys, *counts}))


def tenancy_metrics(app: FastAPI) -> Iterable[Metric]:
    meter = cast(UsageMeter, app.state.tenant_usage)
    webhook_outcomes = cast("Counter[str]", app.state.stripe_webhook_outcomes)
    yield Metric(
        "tenancy_requests_total",
        "counter",
        "Requests of tenants, by the tenant's plan.",
        by_label("plan", app.state.settings.tenant_plans, meter.requests_by_plan),
    )
    yield Metric(
        "tenancy_stripe_usage_reports_total",
        "counter",
        "Usage reports to Stripe's billing meter, by outcome.",
        by_label("outcome", REPORT_OUTCOMES, meter.reports),
    )
    yield Metric(
        "tenancy_stripe_webhook_events_total",
        "counter",
        "Stripe webhook deliveries, by outcome.",
        by_label("outcome", WEBHOOK_OUTCOMES, webhook_outcomes),
    )
