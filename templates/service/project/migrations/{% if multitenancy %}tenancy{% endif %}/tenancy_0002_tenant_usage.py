"""multitenancy: metered usage per tenant and billing period

Revision ID: tenancy_0002
Revises: tenancy_0001
Create Date: 2026-01-01 00:00:00+00:00

Tenant-owned like the items: the same forced row-level security policy.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tenancy_0002"
down_revision: str | Sequence[str] | None = "tenancy_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "NULLIF(current_setting('app.tenant_id', true), '')"


def upgrade() -> None:
    op.create_table(
        "tenant_usage",
        sa.Column(
            "tenant_id",
            sa.String(length=64),
            server_default=sa.text("current_setting('app.tenant_id')"),
            nullable=False,
        ),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("requests", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "period", name=op.f("pk_tenant_usage")),
    )
    op.execute("ALTER TABLE tenant_usage ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tenant_usage FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON tenant_usage USING (tenant_id = {TENANT}) "
        f"WITH CHECK (tenant_id = {TENANT})"
    )


def downgrade() -> None:
    op.drop_table("tenant_usage")
