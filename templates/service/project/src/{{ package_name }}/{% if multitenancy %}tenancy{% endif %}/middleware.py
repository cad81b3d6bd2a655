"""Which tenant a request acts for: the claim of the verified token, never a header.

At position 25, after authentication (20) has verified the caller and before the rate limiter
(30) counts it, so its counts are labelled by plan. A caller whose token names a tenant this
service does not know, or a suspended one, is refused here with a 403 problem document,
whatever the route. A machine client whose token names no tenant acts for the one that
TENANT_MACHINE_CLIENTS registers for it. A caller without a tenant goes on without one: routes
that need a tenant (every permission the `authorize` extension point checks) refuse it there.
"""

import re
from http import HTTPStatus
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ..auth.principal import authentication_of, claim_at
from ..problems import problem_response
from .config import TENANT_ID_PATTERN, PlanRules, Settings
from .context import ActiveTenant, act_for, stop_acting_for
from .directory import TenantDirectory
from .metering import UsageMeter

POSITION = 25
VALID_TENANT_ID = re.compile(TENANT_ID_PATTERN)
NO_RULES = PlanRules(max_items=0)  # a plan TENANT_PLANS no longer names gives nothing


def tenant_claim(claims: Any, claim: str) -> str | None:
    value = claim_at(claims, claim)
    return value if isinstance(value, str) and VALID_TENANT_ID.match(value) else None


class TenancyMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.claim = settings.tenant_claim
        self.machine_clients = settings.tenant_machine_clients
        self.plans = settings.tenant_plans

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = authentication_of(scope).principal if scope["type"] == "http" else None
        tenant_id = tenant_claim(principal.claims, self.claim) if principal else None
        if tenant_id is None and principal is not None and principal.is_machine:
            # Client-credentials tokens rarely carry custom claims: the client's registered tenant.
            tenant_id = self.machine_clients.get(principal.client_id or principal.subject)
        if tenant_id is None:
            await self.app(scope, receive, send)
            return
        directory: TenantDirectory = scope["app"].state.tenants
        record = await directory.find(tenant_id)
        if record is None or record.suspended:
            detail = "The tenant is suspended." if record else "The tenant does not exist."
            await problem_response(HTTPStatus.FORBIDDEN, detail)(scope, receive, send)
            return
        scope.setdefault("state", {})["tenant"] = tenant_id
        tenant = ActiveTenant(record.id, record.plan, self.plans.get(record.plan, NO_RULES))
        meter: UsageMeter = scope["app"].state.tenant_usage
        meter.count(tenant)
        token = act_for(tenant)
        try:
            await self.app(scope, receive, send)
        finally:
            stop_acting_for(token)


def tenancy_middleware(app: ASGIApp, settings: Settings) -> ASGIApp:
    return TenancyMiddleware(app, settings)
