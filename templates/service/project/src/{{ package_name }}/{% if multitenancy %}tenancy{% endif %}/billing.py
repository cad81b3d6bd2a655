"""Stripe billing: a customer and a subscription per tenant, and its metered requests reported.

With STRIPE_API_KEY set, creating a tenant creates its Stripe customer and, when its plan has a
price (STRIPE_PRICES), a subscription to that price; each Stripe call carries an idempotency key
made of the tenant id, so a retried creation never makes a second customer. The metering flush
reports each tenant's requests to the billing meter STRIPE_METER_EVENT as meter events, each
chunk of requests under an identifier (and idempotency key) of its own that a resend repeats, so
Stripe counts it once (`metering.py`). Plans move the other way, from Stripe
to the service: `webhooks.py`. Without STRIPE_API_KEY nothing here calls Stripe.
"""

from dataclasses import dataclass
from http import HTTPStatus

import stripe

from ..problems import ProblemError
from .config import Settings


class BillingUnavailableError(ProblemError):
    status = HTTPStatus.BAD_GATEWAY


@dataclass(frozen=True, slots=True)
class StripeAccount:
    customer_id: str
    subscription_id: str | None


class Billing:
    def __init__(self, settings: Settings) -> None:
        key = settings.stripe_api_key.get_secret_value()
        self.enabled = bool(key)
        self.prices = settings.stripe_prices
        self.meter_event = settings.stripe_meter_event
        self._http = stripe.HTTPXClient(timeout=30)
        self._client = stripe.StripeClient(
            key or "sk_unset",
            base_addresses={"api": settings.stripe_api_base},
            http_client=self._http,
            max_network_retries=2,
        )

    async def subscribe(self, tenant_id: str, name: str, plan: str) -> StripeAccount:
        """The tenant's Stripe customer, and its subscription when the plan has a price."""
        try:
            customer = await self._client.v1.customers.create_async(
                params={"name": name, "metadata": {"tenant_id": tenant_id}},
                options={"idempotency_key": f"tenant-{tenant_id}-customer"},
            )
            price = self.prices.get(plan)
            if price is None:
                return StripeAccount(customer.id, None)
            subscription = await self._client.v1.subscriptions.create_async(
                params={
                    "customer": customer.id,
                    "items": [{"price": price}],
                    "metadata": {"tenant_id": tenant_id},
                },
                options={"idempotency_key": f"tenant-{tenant_id}-subscription-{price}"},
            )
        except stripe.StripeError as error:
            detail = f"Stripe refused the tenant's account: {error}"
            raise BillingUnavailableError(detail) from error
        return StripeAccount(customer.id, subscription.id)

    async def close_account(self, customer_id: str) -> None:
        """Delete the customer (Stripe cancels its subscriptions at once): a deleted tenant's."""
        try:
            await self._client.v1.customers.delete_async(customer_id)
        except stripe.InvalidRequestError as error:
            if error.http_status != HTTPStatus.NOT_FOUND:  # gone already: nothing left to do
                raise BillingUnavailableError(f"Stripe refused: {error}") from error
        except stripe.StripeError as error:
            raise BillingUnavailableError(f"Stripe refused: {error}") from error

    async def report_usage(
        self, customer_id: str, requests: int, *, identifier: str
    ) -> stripe.billing.MeterEvent:
        """Report `requests` more metered requests of this customer (raises stripe.StripeError).

        `identifier` names this report: Stripe takes one event per identifier (within at least
        24 hours), and the same idempotency key answers a resend with the first answer."""
        return await self._client.v1.billing.meter_events.create_async(
            params={
                "event_name": self.meter_event,
                "identifier": identifier,
                "payload": {"stripe_customer_id": customer_id, "value": str(requests)},
            },
            options={"idempotency_key": f"meter-{identifier}"},
        )

    def plan_of_price(self, price_id: str) -> str | None:
        """The plan whose STRIPE_PRICES entry is this price, if any."""
        return next((plan for plan, price in self.prices.items() if price == price_id), None)

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]
