"""create items

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
# The service's own line of migrations; each capability keeps its own branch (its label).
branch_labels: str | Sequence[str] | None = ("service",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
    )
    op.create_index(op.f("ix_items_created_at"), "items", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_items_created_at"), table_name="items")
    op.drop_table("items")
