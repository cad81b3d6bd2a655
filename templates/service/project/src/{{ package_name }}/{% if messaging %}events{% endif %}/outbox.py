"""The transactional outbox: an item write and its event commit together, or not at all.

`outbox_writer` is this capability's `items.writing` hook: inside the write's transaction it
inserts the event into `messaging_outbox` and sends a NOTIFY, which PostgreSQL delivers only if
the transaction commits (it wakes the relay at once). The relay's own statements are below:
claiming a batch, marking what the broker confirmed, and pruning.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..extensions import Extensions
from ..items.hooks import ItemChange, ItemWriting
from .models import OutboxEvent, ProcessedEvent
from .schemas import AGGREGATE_TYPE, EventType, ItemData, ItemEvent, event_headers

NOTIFY_CHANNEL = "messaging_outbox"
PRUNE_CHUNK = 5000
EVENT_TYPES: dict[str, EventType] = {
    "created": "item.created",
    "updated": "item.updated",
    "deleted": "item.deleted",
}

MARK_PUBLISHED = text("""
UPDATE messaging_outbox
SET published_at = now(), publish_attempts = publish_attempts + 1
WHERE id = ANY(:ids)
""")
# A batch in commit order, skipping the rows another relay holds (SKIP LOCKED).
CLAIM = text("""
SELECT id, event_id, aggregate_id, payload::text, headers
FROM messaging_outbox
WHERE published_at IS NULL
ORDER BY id
LIMIT :limit
FOR UPDATE SKIP LOCKED
""")
# For the aggregates of a batch: their first unpublished event outside it (held by another
# relay, or beyond the batch's end). One index probe per aggregate, the batch's ids hashed,
# whatever the statistics and whichever plan: asyncpg prepares the statement, and PostgreSQL's
# generic plan (used from its sixth run on) of the former `aggregate_id = ANY(:aggregates) AND
# id <> ALL(:ids)`, with a freshly filled outbox's statistics, walked both arrays for every
# unpublished row (56 ms for a batch of 500 with 5,000 waiting; this form 3.6 ms; `IN`/`NOT IN`
# subqueries without LATERAL were planned as a nested loop over all of them, 790 ms).
FIRST_OUTSIDE = text("""
SELECT batch.aggregate_id, outside.first
FROM unnest(CAST(:aggregates AS text[])) AS batch(aggregate_id)
CROSS JOIN LATERAL (
    SELECT min(id) AS first
    FROM messaging_outbox
    WHERE aggregate_id = batch.aggregate_id
        AND published_at IS NULL
        AND id NOT IN (SELECT unnest(CAST(:ids AS bigint[])))
) AS outside
WHERE outside.first IS NOT NULL
""")


@dataclass(frozen=True, slots=True)
class PendingEvent:
    id: int
    event_id: uuid.UUID
    aggregate_id: str
    payload: str
    """The event's JSON, as the message body (read as text: no decoding and encoding again)."""
    headers: dict[str, str]


def event_of(change: ItemChange, tenant: str | None = None) -> ItemEvent:
    return ItemEvent(
        event_id=uuid.uuid4(),
        type=EVENT_TYPES[change.kind],
        occurred_at=datetime.now(UTC),
        aggregate_id=change.item.id,
        tenant=tenant,
        data=ItemData.model_validate(change.item.model_dump()),
    )


async def add_event(
    session: AsyncSession,
    event: ItemEvent,
    headers: Mapping[str, str] = {},
    shard_key: str | None = None,
) -> None:
    """Insert `event` into the outbox in the session's transaction, and wake the relay."""
    await session.execute(
        insert(OutboxEvent).values(
            event_id=event.event_id,
            aggregate_type=AGGREGATE_TYPE,
            aggregate_id=str(event.aggregate_id),
            shard_key=shard_key,
            event_type=event.type,
            event_version=event.version,
            payload=event.model_dump(mode="json"),
            headers={**headers, **event_headers(event)},
        )
    )
    await session.execute(select(func.pg_notify(NOTIFY_CHANNEL, "")))


def outbox_writer(extensions: Extensions) -> ItemWriting:
    async def write(session: AsyncSession, change: ItemChange) -> None:
        event = event_of(change, extensions.tenant())
        shard_key = extensions.shard_key.of_item(change.item.id)
        await add_event(session, event, extensions.headers(), shard_key)

    return write


async def claim(session: AsyncSession, limit: int) -> list[PendingEvent]:
    """Lock up to `limit` unpublished events, oldest first, and keep those that may go now:
    an event goes only if no earlier event of its aggregate is outside the batch (another
    relay holds it, and publishes it first), so per-aggregate order holds however many relays
    run. (Two statements, not one: with the table's statistics as stale as an outbox's often
    are, PostgreSQL plans the single-statement form as a quadratic nested loop.)"""
    claimed = [PendingEvent(*row) for row in await session.execute(CLAIM, {"limit": limit})]
    if not claimed:
        return []
    parameters = {
        "aggregates": list({event.aggregate_id for event in claimed}),
        "ids": [event.id for event in claimed],
    }
    rows = await session.execute(FIRST_OUTSIDE, parameters)
    first_outside: dict[str, int] = {row[0]: row[1] for row in rows}
    return [
        event
        for event in claimed
        if event.aggregate_id not in first_outside or event.id < first_outside[event.aggregate_id]
    ]


async def mark_published(session: AsyncSession, ids: Sequence[int]) -> None:
    if ids:
        await session.execute(MARK_PUBLISHED, {"ids": list(ids)})


async def mark_failed(session: AsyncSession, failures: Mapping[int, str]) -> None:
    for event_id, error in failures.items():
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == event_id)
            .values(publish_attempts=OutboxEvent.publish_attempts + 1, last_error=error)
        )


async def backlog(session: AsyncSession) -> tuple[int, float]:
    """Unpublished events, and the age in seconds of the oldest one (0 when there is none)."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(OutboxEvent.created_at)).where(
                OutboxEvent.published_at.is_(None)
            )
        )
    ).one()
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
    return int(count), max(age, 0.0)


async def prune(
    session: AsyncSession, outbox_seconds: float, processed_seconds: float, limit: int = PRUNE_CHUNK
) -> tuple[int, int]:
    """Delete one chunk (at most `limit` rows each) of published events and of processed-event
    records past their retention, so no statement holds many locks; returns how many of each
    went (a chunk smaller than `limit`: that table is done)."""
    old_events = (
        select(OutboxEvent.id)
        .where(OutboxEvent.published_at < func.now() - _seconds(outbox_seconds))
        .limit(limit)
        .scalar_subquery()
    )
    events = await session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(old_events)))
    old_records = (
        select(ProcessedEvent.event_id)
        .where(ProcessedEvent.processed_at < func.now() - _seconds(processed_seconds))
        .limit(limit)
        .scalar_subquery()
    )
    records = await session.execute(
        delete(ProcessedEvent).where(ProcessedEvent.event_id.in_(old_records))
    )
    return int(events.rowcount or 0), int(records.rowcount or 0)  # type: ignore[attr-defined]


def _seconds(value: float) -> Any:
    return func.make_interval(0, 0, 0, 0, 0, 0, value)
