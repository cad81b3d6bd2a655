"""Tenants, and the tenant that owns each item.

`tenants` is the directory: read before a tenant is known (to learn its plan and status), so it
has no row-level security; the app's role may read and write it, and only the admin routes do.

`items.tenant_id` is added to the items table from here (and by this capability's migration),
so the items domain stays the same without multi-tenancy. The column's default is
`current_setting('app.tenant_id')`, the tenant `SET LOCAL` gave the transaction, and the
row-level security policy refuses any other value. It is mapped too (`Item.tenant_id`), and a
new item takes the tenant the work acts for as it is made (`items_of_the_tenant`): the same
value, known before the flush (where sharding needs a row's shard key, to place it by tenant).
"""

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    String,
    Table,
    event,
    func,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from ..database import Base
from ..items.models import Item
from .context import current_tenant_id

TENANT_ID_LENGTH = 64


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(TENANT_ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True, index=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))


class StripeEvent(Base):
    """A Stripe event the webhook processed: its id is recorded once, with what it changed."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class TenantUsage(Base):
    """Requests per tenant and billing period (a month); tenant-owned, under row-level security."""

    __tablename__ = "tenant_usage"

    tenant_id: Mapped[str] = mapped_column(
        String(TENANT_ID_LENGTH),
        primary_key=True,
        server_default=text("current_setting('app.tenant_id')"),
    )
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, server_default="0")
    reported: Mapped[int] = mapped_column(BigInteger, server_default="0")
    """Requests of the period that Stripe has acknowledged (billing)."""
    reporting: Mapped[int] = mapped_column(BigInteger, server_default="0")
    """The end of the chunk being reported, fixed before it is sent: above `reported` while a
    report is unacknowledged, which is then sent again as the same chunk."""


TENANT_COLUMN = Column(
    "tenant_id",
    String(TENANT_ID_LENGTH),
    nullable=False,
    server_default=text("current_setting('app.tenant_id')"),
)
ITEMS = cast(Table, Item.__table__)
ITEMS.append_column(TENANT_COLUMN)
# The list's order within one tenant: RLS adds `tenant_id = ...` to every query of items.
Index("ix_items_tenant_id_created_at", TENANT_COLUMN, ITEMS.c.created_at, ITEMS.c.id)
inspect(Item).add_property("tenant_id", column_property(TENANT_COLUMN))


@event.listens_for(Item, "init")
def items_of_the_tenant(item: Item, *_: Any) -> None:
    """A new item belongs to the tenant the work acts for (none: the column's default)."""
    tenant = current_tenant_id()
    if tenant is not None:
        item.tenant_id = tenant  # type: ignore[attr-defined]
