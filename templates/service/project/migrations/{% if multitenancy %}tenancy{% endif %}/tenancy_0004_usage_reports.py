"""multitenancy: how much of each tenant's usage Stripe has taken

Revision ID: tenancy_0004
Revises: tenancy_0003
Create Date: 2026-01-01 00:00:00+00:00

`reported`: the requests of the period that Stripe has acknowledged; `reporting`: the end of
the chunk being reported (`reported` .. `reporting`), fixed before the report is sent, so a
report that failed is sent again as the same chunk, with the same identifier.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tenancy_0004"
down_revision: str | Sequence[str] | None = "tenancy_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for name in ("reported", "reporting"):
        op.add_column(
            "tenant_usage",
            sa.Column(name, sa.BigInteger(), server_default="0", nullable=False),
        )


def downgrade() -> None:
    op.drop_column("tenant_usage", "reporting")
    op.drop_column("tenant_usage", "reported")
