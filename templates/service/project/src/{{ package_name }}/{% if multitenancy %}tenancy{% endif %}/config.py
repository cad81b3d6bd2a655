"""The multi-tenancy section of the settings (`config.Settings` inherits it)."""

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings

TENANT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class PlanQuota(BaseModel):
    """A plan's rate-limit quota under one policy: `limit` requests per `window_seconds` for
    each of the tenant's callers, `burst` of them at once (None: the whole limit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    limit: int = Field(ge=1, le=1_000_000)
    window_seconds: int = Field(ge=1, le=86_400)
    burst: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _burst_within_limit(self) -> Self:
        if self.burst is not None and self.burst > self.limit:
            raise ValueError("burst cannot exceed limit (the quota it is part of)")
        return self


class PlanRules(BaseModel):
    """What a plan gives: its features (gates for `require_feature`) and its limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    features: frozenset[str] = frozenset()
    max_items: Annotated[int, Field(ge=0)] | None = None
    """The most items a tenant on this plan may hold; None: no limit."""
    rate_limits: dict[str, PlanQuota] = Field(default_factory=dict)
    """Rate-limit policy name -> the quota its tenants' callers get under that policy (with
    rate limiting); a policy not named here holds them to its own (RATE_LIMIT_POLICIES)."""


def default_plans() -> dict[str, PlanRules]:
    """The free plan is held to a tighter quota than the service's default policy (100 a
    minute, 20 at once); the paid plans get the policies as configured."""
    return {
        "free": PlanRules(
            max_items=100,
            rate_limits={"default": PlanQuota(limit=30, window_seconds=60, burst=10)},
        ),
        "pro": PlanRules(features=frozenset({"items:export"}), max_items=100_000),
        "enterprise": PlanRules(features=frozenset({"items:export"})),
    }


class Settings(BaseSettings):
    tenant_claim: str = "tenant_id"
    """The verified token claim naming the caller's tenant: a top-level claim (`tenant_id`,
    `org_id`, `custom:tenant`), else a dotted path into nested claims."""
    tenant_machine_clients: dict[str, str] = Field(default_factory=dict)
    """JSON: client id -> tenant id, the tenant a machine client (client credentials) acts for
    when its token names none; a client not listed acts for no tenant."""
    tenant_plans: dict[str, PlanRules] = Field(default_factory=default_plans)
    """JSON: plan name -> {"features": [...], "max_items": N, "rate_limits": {"default":
    {"limit": N, "window_seconds": S, "burst": B}}}."""
    tenant_default_plan: str = "free"
    tenant_usage_flush_seconds: float = Field(default=10.0, gt=0, le=3600)
    """How often each process adds the requests it counted to `tenant_usage`."""
    tenant_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    """How long this process trusts what it read of a tenant (plan, suspension)."""

    stripe_api_key: SecretStr = Field(default=SecretStr(""), repr=False)
    """Stripe's secret key (`sk_...`); empty: no billing (tenants get no Stripe customer)."""
    stripe_webhook_secret: SecretStr = Field(default=SecretStr(""), repr=False)
    """The signing secret of the webhook endpoint (`whsec_...`); empty: the endpoint refuses
    every event."""
    stripe_api_base: str = "https://api.stripe.com"
    """Where the Stripe API is (the tests: stripe-mock on loopback)."""
    stripe_prices: dict[str, str] = Field(default_factory=dict)
    """JSON: plan name -> Stripe price id, the price of each plan's subscription; a plan not
    listed (the free one) gets a customer and no subscription."""
    stripe_meter_event: str = "api_requests"
    """The event name of the Stripe billing meter that the metered requests are reported to."""
    stripe_webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    """How old a signed webhook may be: an older one is refused as a replay."""
