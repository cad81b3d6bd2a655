"""The messaging tables: the outbox, the events each consumer has processed, and the
notifications the worker writes (its side effect).

`messaging_outbox.id` is a sequence: for one aggregate it follows commit order, because two
writes of one item serialise on the item's row lock. The relay publishes by it.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..database import Base

UNPUBLISHED = text("published_at IS NULL")


class OutboxEvent(Base):
    __tablename__ = "messaging_outbox"
    __table_args__ = (
        # What the relay claims, in order; and the earlier unpublished events of an aggregate.
        Index("ix_messaging_outbox_unpublished", "id", postgresql_where=UNPUBLISHED),
        Index(
            "ix_messaging_outbox_unpublished_aggregate",
            "aggregate_id",
            "id",
            postgresql_where=UNPUBLISHED,
        ),
        # What pruning deletes.
        Index(
            "ix_messaging_outbox_published_at",
            "published_at",
            postgresql_where=text("published_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    aggregate_type: Mapped[str] = mapped_column(String(100))
    aggregate_id: Mapped[str] = mapped_column(String(200))
    shard_key: Mapped[str | None] = mapped_column(String(200))
    """The key the aggregate's rows are placed by when sharded (`Extensions.shard_key`):
    resharding moves the unpublished events of the buckets it moves with them."""
    event_type: Mapped[str] = mapped_column(String(200))
    event_version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    headers: Mapped[dict[str, str]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    publish_attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)


class ProcessedEvent(Base):
    """One row per event a consumer group has handled, written with the handling's effect."""

    __tablename__ = "messaging_processed_events"

    consumer_group: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class Notification(Base):
    """What the notification worker produced for an event. No unique key on `event_id` on
    purpose: exactly one row per event is the consumer's promise, and the tests check it."""

    __tablename__ = "messaging_notifications"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(index=True)
    item_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
