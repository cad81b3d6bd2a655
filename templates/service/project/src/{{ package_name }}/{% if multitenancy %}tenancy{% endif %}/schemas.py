from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from .config import TENANT_ID_PATTERN

TenantId = Annotated[str, StringConstraints(pattern=TENANT_ID_PATTERN)]
PlanName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: TenantId
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    plan: PlanName | None = None
    """None: TENANT_DEFAULT_PLAN."""


class TenantUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: PlanName | None = None
    status: Literal["active", "suspended"] | None = None


class TenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    plan: str
    status: str
    created_at: datetime


class OwnTenant(BaseModel):
    """GET /tenant: the caller's tenant, its plan's features and limits, and what it holds."""

    id: str
    plan: str
    features: list[str]
    max_items: int | None
    items: int


class UsagePeriod(BaseModel):
    period: date
    """The billing period: its first day (a calendar month, UTC)."""
    requests: int


class Usage(BaseModel):
    """GET /tenant/usage: requests per billing period (newest first), items stored now."""

    tenant: str
    items: int
    periods: list[UsagePeriod]
