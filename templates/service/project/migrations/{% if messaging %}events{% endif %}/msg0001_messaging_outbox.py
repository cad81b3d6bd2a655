"""messaging: the outbox, processed events, notifications

Revision ID: msg0001
Revises:
Create Date: 2025-01-01 00:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "msg0001"
down_revision: str | Sequence[str] | None = None
# The messaging capability's own branch, applied after the service's first revision.
branch_labels: str | Sequence[str] | None = ("messaging",)
depends_on: str | Sequence[str] | None = "0001"

UNPUBLISHED = sa.text("published_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "messaging_outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("aggregate_type", sa.String(length=100), nullable=False),
        sa.Column("aggregate_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("event_version", sa.Integer(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publish_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_messaging_outbox_event_id")),
    )
    op.create_index(
        "ix_messaging_outbox_unpublished",
        "messaging_outbox",
        ["id"],
        postgresql_where=UNPUBLISHED,
    )
    op.create_index(
        "ix_messaging_outbox_unpublished_aggregate",
        "messaging_outbox",
        ["aggregate_id", "id"],
        postgresql_where=UNPUBLISHED,
    )
    op.create_index(
        "ix_messaging_outbox_published_at",
        "messaging_outbox",
        ["published_at"],
        postgresql_where=sa.text("published_at IS NOT NULL"),
    )
    op.create_table(
        "messaging_processed_events",
        sa.Column("consumer_group", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "consumer_group", "event_id", name=op.f("pk_messaging_processed_events")
        ),
    )
    op.create_index(
        op.f("ix_messaging_processed_events_processed_at"),
        "messaging_processed_events",
        ["processed_at"],
    )
    op.create_table(
        "messaging_notifications",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_notifications")),
    )
    op.create_index(
        op.f("ix_messaging_notifications_event_id"), "messaging_notifications", ["event_id"]
    )


def downgrade() -> None:
    op.drop_table("messaging_notifications")
    op.drop_table("messaging_processed_events")
    op.drop_table("messaging_outbox")
