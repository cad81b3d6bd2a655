"""The tenant the work in progress acts for: a context variable, set per request by the tenancy
middleware and per message by `message_received`, read by the extension points (`tenant`,
`plan`, `rate_quota`, `session_begin`)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass

from .config import PlanQuota, PlanRules


@dataclass(frozen=True, slots=True)
class ActiveTenant:
    id: str
    plan: str
    rules: PlanRules
    """What the plan gives (features, limits), from TENANT_PLANS."""


_tenant: ContextVar[ActiveTenant | None] = ContextVar("tenant", default=None)


def current_tenant() -> ActiveTenant | None:
    return _tenant.get()


def current_tenant_id() -> str | None:
    """The `tenant` extension point."""
    tenant = _tenant.get()
    return tenant.id if tenant else None


def current_plan() -> str | None:
    """The `plan` extension point."""
    tenant = _tenant.get()
    return tenant.plan if tenant else None


def current_quota(policy: str) -> PlanQuota | None:
    """The `rate_quota` extension point: the quota the tenant's plan sets under `policy`."""
    tenant = _tenant.get()
    return tenant.rules.rate_limits.get(policy) if tenant else None


@contextmanager
def acting_for(tenant: ActiveTenant | None) -> Iterator[None]:
    token = _tenant.set(tenant)
    try:
        yield
    finally:
        _tenant.reset(token)


def act_for(tenant: ActiveTenant | None) -> "Token[ActiveTenant | None]":
    """`acting_for` for the middleware's every request, undone by `stop_acting_for`: a
    generator context manager costs six Python calls more per request (docs/performance.md)."""
    return _tenant.set(tenant)


def stop_acting_for(token: "Token[ActiveTenant | None]") -> None:
    _tenant.reset(token)
