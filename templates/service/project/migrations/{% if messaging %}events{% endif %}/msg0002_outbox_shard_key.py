"""messaging: each outbox row's shard key

Revision ID: msg0002
Revises: msg0001
Create Date: 2026-12-01 00:00:00+00:00

The key its aggregate is placed by (the tenant with multi-tenancy, else the item id), so that
resharding moves an aggregate's unpublished events with it. A column of its own revision: a
database that ran msg0001 before it existed gets it too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "msg0002"
down_revision: str | Sequence[str] | None = "msg0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messaging_outbox", sa.Column("shard_key", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("messaging_outbox", "shard_key")
