"""multitenancy: Stripe billing (each tenant's customer and subscription, events processed)

Revision ID: tenancy_0003
Revises: tenancy_0002
Create Date: 2026-01-01 00:00:00+00:00

`stripe_events` is the webhook's record of the events it processed (each id once); it belongs
to no tenant, so it has no row-level security.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tenancy_0003"
down_revision: str | Sequence[str] | None = "tenancy_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("stripe_customer_id", sa.String(length=255)))
    op.add_column("tenants", sa.Column("stripe_subscription_id", sa.String(length=255)))
    op.create_index(
        op.f("ix_tenants_stripe_customer_id"), "tenants", ["stripe_customer_id"], unique=True
    )
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
    )


def downgrade() -> None:
    op.drop_table("stripe_events")
    op.drop_index(op.f("ix_tenants_stripe_customer_id"), table_name="tenants")
    op.drop_column("tenants", "stripe_subscription_id")
    op.drop_column("tenants", "stripe_customer_id")
