"""The transactional outbox: an item write and its event commit together, or not at all.

`outbox_writer` is this capability's `items.writing` hook: inside the write's transaction it
inserts the event into `messaging_outbox` and sends a NOTIFY, which PostgreSQL delivers only if
the transaction commits (it wakes the relay at once). The relay's own statements are below:
claiming a batch, marking what the broker confirmed, and pruning.
"""

import asyncio
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..extensions import Extensions
from ..items.hooks import ItemChange, ItemWriting
from .models import OutboxEvent, ProcessedEvent
from .schemas import AGGREGATE_TYPE, EventType, ItemData, ItemEvent, event_headers
from .transport import Outgoing

NOTIFY_CHANNEL = "messaging_outbox"
PRUNE_CHUNK = 5000
EVENT_TYPES: dict[str, EventType] = {
    "created": "item.created",
    "updated": "item.updated",
    "deleted": "item.deleted",
}

# The relay's statements run on the driver's own connection (asyncpg: `$n` parameters, rows as
# tuples), not through SQLAlchemy: its result machinery and the headers' JSON codec cost the
# relay about as much CPU an event as the rest of its database work.
#
# A batch in commit order, skipping the rows another relay holds (SKIP LOCKED); the payload as
# the message's bytes (no decoding and encoding again), the headers as JSON text. The rows the
# relay's own rounds in flight hold ($2) are left out before PostgreSQL tries to lock them: SKIP
# LOCKED would skip them too, but only after a lock attempt on each (a round claiming behind
# another skipped its whole batch, row by row).
CLAIM = """
SELECT id, aggregate_id, convert_to(payload::text, 'UTF8'), headers::text
FROM messaging_outbox
WHERE published_at IS NULL
    AND id NOT IN (SELECT unnest(CAST($2 AS bigint[])))
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
# The first unpublished row below a batch's last one that neither the batch nor the relay's
# other rounds hold ($2): nothing (the usual case, one relay) means no other relay holds an
# earlier event of the batch's aggregates, and FIRST_OUTSIDE need not run. `ORDER BY id LIMIT
# 1` keeps PostgreSQL on the unpublished-id index whatever its statistics (as the claim).
OTHER_BELOW = """
SELECT id
FROM messaging_outbox
WHERE published_at IS NULL
    AND id < $1
    AND id NOT IN (SELECT unnest(CAST($2 AS bigint[])))
ORDER BY id
LIMIT 1
"""
# For the aggregates of a batch: their first unpublished event outside it (held by another
# relay, or beyond the batch's end). One index probe per aggregate, the batch's ids hashed,
# whatever the statistics and whichever plan: asyncpg prepares the statement, and PostgreSQL's
# generic plan (used from its sixth run on) of the former `aggregate_id = ANY(:aggregates) AND
# id <> ALL(:ids)`, with a freshly filled outbox's statistics, walked both arrays for every
# unpublished row (56 ms for a batch of 500 with 5,000 waiting; this form 3.6 ms; `IN`/`NOT IN`
# subqueries without LATERAL were planned as a nested loop over all of them, 790 ms).
FIRST_OUTSIDE = """
SELECT batch.aggregate_id, outside.first
FROM unnest(CAST($1 AS text[])) AS batch(aggregate_id)
CROSS JOIN LATERAL (
    SELECT min(id) AS first
    FROM messaging_outbox
    WHERE aggregate_id = batch.aggregate_id
        AND published_at IS NULL
        AND id NOT IN (SELECT unnest(CAST($2 AS bigint[])))
) AS outside
WHERE outside.first IS NOT NULL
"""
MARK_PUBLISHED = """
UPDATE messaging_outbox
SET published_at = now(), publish_attempts = publish_attempts + 1
WHERE id = ANY(CAST($1 AS bigint[]))
"""
MARK_FAILED = """
UPDATE messaging_outbox
SET publish_attempts = publish_attempts + 1, last_error = $2
WHERE id = $1
"""


@dataclass(frozen=True, slots=True)
class PendingEvent(Outgoing):
    """An outbox row as the message it is published as (key: the aggregate id)."""

    id: int


@dataclass(slots=True)
class Held:
    """What one round of a relay claimed: the rows it holds locked, all of them (also those it
    holds back), and the events it may publish now."""

    ids: list[int]
    first: dict[str, int]
    """Each aggregate's first row among them."""
    pending: list[PendingEvent]
    blocking: list["Held"] = field(default_factory=list)
    """The relay's other rounds in flight when one of them holds an event of it back (it
    claims again once one has ended); empty when none does, or when another relay (or a
    round not known yet) may."""
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when its transaction ended: its rows are unlocked."""


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


async def claim(connection: Any, limit: int, held: list[Held]) -> Held | None:
    """Lock up to `limit` unpublished events, oldest first, and keep those that may go now:
    an event goes only if no earlier event of its aggregate is outside the batch (another
    relay, or another round of this one, holds it and publishes it first), so per-aggregate
    order holds however many relays run. None when there was nothing to claim.

    `held` lists what the relay's rounds in flight hold: the round is added to it as soon as its
    rows are locked (the caller removes it when its transaction ends), and the rows of the
    others count as outside. The others are those in flight when the claim starts (the claim
    leaves their rows out): a round that begins meanwhile is not among them, so its rows are
    found below as rows nobody holds, the safe side. Rows that neither this round nor the others
    hold are looked for below the batch's last id only (OTHER_BELOW): an earlier event of one of
    the batch's aggregates has a smaller id (ids follow commit order per aggregate) and was
    committed before the batch was claimed, so unpublished it is in the batch, in `held`, or
    found then, and FIRST_OUTSIDE runs. (Not one statement: with the table's statistics as stale
    as an outbox's often are, PostgreSQL plans the single-statement form as a quadratic nested
    loop.)
    """
    others = list(held)
    theirs = [row for other in others for row in other.ids]
    rows = await connection.fetch(CLAIM, limit, theirs)
    if not rows:
        return None
    loads = json.loads
    claimed = [PendingEvent(key, body, loads(headers), row) for row, key, body, headers in rows]
    ids = [event.id for event in claimed]
    first: dict[str, int] = {}
    for event in reversed(claimed):
        first[event.key] = event.id
    batch = Held(ids, first, claimed)
    held.append(batch)
    try:
        if await connection.fetchval(OTHER_BELOW, ids[-1], ids + theirs) is None:
            first_outside: dict[str, int] = {}
            for other in others:
                for aggregate, row in other.first.items():
                    if aggregate in first and row < first_outside.get(aggregate, row + 1):
                        first_outside[aggregate] = row
            if first_outside:
                batch.blocking = others
        else:
            found = await connection.fetch(FIRST_OUTSIDE, list(first), ids)
            first_outside = dict(found)
    except BaseException:
        held.remove(batch)
        raise
    if first_outside:
        batch.pending = [
            event
            for event in claimed
            if event.key not in first_outside or event.id < first_outside[event.key]
        ]
    return batch


async def mark_published(connection: Any, ids: Sequence[int]) -> None:
    if ids:
        await connection.execute(MARK_PUBLISHED, list(ids))


async def mark_failed(connection: Any, failures: Mapping[int, str]) -> None:
    for event_id, error in failures.items():
        await connection.execute(MARK_FAILED, event_id, error)


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
