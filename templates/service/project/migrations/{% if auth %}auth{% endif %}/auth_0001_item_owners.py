"""auth: item owners

Revision ID: auth_0001
Revises:
Create Date: 2026-01-01 00:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "auth_0001"
down_revision: str | Sequence[str] | None = None
# The authentication capability's own line of migrations; it needs the items table.
branch_labels: str | Sequence[str] | None = ("auth",)
depends_on: str | Sequence[str] | None = "0001"


def upgrade() -> None:
    op.create_table(
        "item_owners",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_owners_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_owners")),
    )
    op.create_index(op.f("ix_item_owners_subject"), "item_owners", ["subject"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_item_owners_subject"), table_name="item_owners")
    op.drop_table("item_owners")
