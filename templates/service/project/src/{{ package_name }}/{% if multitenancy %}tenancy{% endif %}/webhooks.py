"""`POST /billing/stripe/webhook`: Stripe's events, which move a tenant's plan.

The endpoint needs no token: Stripe signs each delivery. An event is taken only when its
`Stripe-Signature` is Stripe's HMAC-SHA256 of the body with STRIPE_WEBHOOK_SECRET and its
timestamp is within STRIPE_WEBHOOK_TOLERANCE_SECONDS of now, either way: an older one is a
replay, and one from further in the future (which the `stripe` library does not check: its
tolerance is one-sided) would stay acceptable for longer than the tolerance; anything else is a
400 problem document. Each event id is processed once: the id is recorded in
`stripe_events` in the same transaction as what the event changes, so a redelivered or replayed
event (Stripe retries until it gets a 2xx) changes nothing the second time.

Where the record lives: on every database of the service's tables (a statement naming no shard
key; with sharding, each shard). The one that counts is written acting for the event's tenant,
so on the database holding the tenant's rows, in one transaction with its plan change (with
sharding, a transaction on one shard: no commit on another shard can split them). Then a copy
goes to every other database, so that a later delivery finds the event wherever the tenant's
rows live by then (a move of its bucket takes its rows, not `stripe_events`). An event found on
any database is a duplicate; its delivery writes the copies a crash between the two commits
left out.

`customer.subscription.created` / `.updated` move the customer's tenant to the plan whose
STRIPE_PRICES entry is the subscription's price; `.deleted` (and a subscription that ended:
canceled, unpaid, incomplete_expired) moves it back to TENANT_DEFAULT_PLAN. Other event types
are recorded and acknowledged, nothing more.
"""

import time
from collections import Counter
from http import HTTPStatus
from typing import Any, Literal

import stripe
from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import Insert, insert

from ..database import SessionDep
from ..problems import ProblemError
from .billing import Billing
from .config import PlanRules
from .context import ActiveTenant, acting_for
from .directory import TenantDirectory
from .models import StripeEvent, Tenant

router = APIRouter(tags=["billing"])
ENDED = frozenset({"canceled", "unpaid", "incomplete_expired"})


class InvalidWebhookError(ProblemError):
    status = HTTPStatus.BAD_REQUEST


class WebhookOutcome(BaseModel):
    event: str
    outcome: Literal["processed", "duplicate", "ignored"]


class Event(BaseModel):
    """What the endpoint reads of a verified event (Stripe's JSON, as sent)."""

    id: str
    type: str
    data: dict[str, Any]


def signed_at(header: str) -> int:
    """The `t=` of a `Stripe-Signature` that `verify_header` accepted (so it has one), read
    as the library reads it: the first `t` of the comma-separated `name=value` pairs."""
    pairs = (part.split("=", 2) for part in header.split(","))
    return int(next(pair[1] for pair in pairs if pair[0] == "t"))


def verified_event(request: Request, payload: bytes) -> Event:
    settings = request.app.state.settings
    header = request.headers.get("stripe-signature")
    tolerance = settings.stripe_webhook_tolerance_seconds
    try:
        stripe.WebhookSignature.verify_header(
            payload,
            header,
            settings.stripe_webhook_secret.get_secret_value(),
            tolerance=tolerance,
        )
        if header is None or signed_at(header) > time.time() + tolerance:
            raise ValueError(f"Timestamp in the future, beyond the tolerance zone ({tolerance} s)")
        return Event.model_validate_json(payload)
    except (ValueError, stripe.SignatureVerificationError) as error:
        # pydantic's ValidationError is a ValueError: a signed body that is not an event
        raise InvalidWebhookError(f"Not a valid Stripe event: {error}") from error


def plan_of_subscription(
    billing: Billing, event_type: str, subscription: dict[str, Any], default: str
) -> str:
    if event_type == "customer.subscription.deleted" or subscription.get("status") in ENDED:
        return default
    for item in subscription.get("items", {}).get("data", []):
        plan = billing.plan_of_price(item.get("price", {}).get("id", ""))
        if plan is not None:
            return plan
    return default


def counted(request: Request, outcome: WebhookOutcome) -> WebhookOutcome:
    outcomes: Counter[str] = request.app.state.stripe_webhook_outcomes
    outcomes[outcome.outcome] += 1
    return outcome


def record(event: Event) -> Insert:
    """The event's record; where it goes is where the statement runs (see the module's doc)."""
    return (
        insert(StripeEvent)
        .values(id=event.id, type=event.type)
        .on_conflict_do_nothing(index_elements=[StripeEvent.id])
    )


@router.post("/billing/stripe/webhook")
async def stripe_webhook(request: Request, session: SessionDep) -> WebhookOutcome:
    try:
        event = verified_event(request, await request.body())
    except InvalidWebhookError:
        outcomes: Counter[str] = request.app.state.stripe_webhook_outcomes
        outcomes["refused"] += 1
        raise
    seen = await session.scalar(select(StripeEvent.id).where(StripeEvent.id == event.id))
    subscription: dict[str, Any] = event.data.get("object", {})
    tenant = None
    if seen is None and event.type.startswith("customer.subscription."):
        tenant = await session.scalar(
            select(Tenant).where(Tenant.stripe_customer_id == subscription.get("customer"))
        )
    outcome: Literal["processed", "duplicate", "ignored"] = "duplicate" if seen else "ignored"
    if tenant is not None:
        tenant_id = tenant.id
        with acting_for(ActiveTenant(tenant_id, tenant.plan, PlanRules())):
            first_time = await session.scalar(record(event).returning(StripeEvent.id))
            if first_time is None:  # a concurrent delivery of it committed first
                await session.rollback()
                outcome = "duplicate"
            else:
                settings = request.app.state.settings
                billing: Billing = request.app.state.billing
                tenant.plan = plan_of_subscription(
                    billing, event.type, subscription, settings.tenant_default_plan
                )
                tenant.stripe_subscription_id = subscription.get("id")
                await session.commit()
                directory: TenantDirectory = request.app.state.tenants
                directory.forget(tenant_id)
                outcome = "processed"
    await session.execute(record(event))  # on every database: the copies
    await session.commit()
    return counted(request, WebhookOutcome(event=event.id, outcome=outcome))
