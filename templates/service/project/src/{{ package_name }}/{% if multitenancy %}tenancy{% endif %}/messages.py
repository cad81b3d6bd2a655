"""Messages carry their tenant: the `message_headers` and `message_received` extension points.

A message published while acting for a tenant gets its id and plan in headers; its consumer acts
for that tenant while handling it, so its database work runs under the tenant's `SET LOCAL`.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from .config import PlanRules
from .context import ActiveTenant, acting_for, current_tenant
from .middleware import VALID_TENANT_ID

TENANT_HEADER = "tenant-id"
PLAN_HEADER = "tenant-plan"


def tenant_headers() -> Mapping[str, str]:
    tenant = current_tenant()
    return {TENANT_HEADER: tenant.id, PLAN_HEADER: tenant.plan} if tenant else {}


@contextmanager
def tenant_of_message(headers: Mapping[str, str]) -> Iterator[None]:
    tenant_id = headers.get(TENANT_HEADER)
    if tenant_id is None or not VALID_TENANT_ID.match(tenant_id):
        yield
        return
    # The consumer only needs the tenant's rows; the plan's limits are the API's to enforce.
    with acting_for(ActiveTenant(tenant_id, headers.get(PLAN_HEADER, ""), PlanRules())):
        yield


def tenant_log_fields() -> Mapping[str, object]:
    tenant = current_tenant()
    return {"tenant_id": tenant.id} if tenant else {}
