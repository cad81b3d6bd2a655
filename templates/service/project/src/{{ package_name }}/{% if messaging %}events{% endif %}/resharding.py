"""Unpublished events move with their aggregate when resharding moves its buckets.

Each shard's relay publishes its own outbox. Were an item's unpublished events left on the old
shard, the old shard's relay and the new shard's (for the events written after the move) would
publish that item's events in no guaranteed order. So resharding calls `move_unpublished`
(this capability's `moved_with_buckets`) inside the fence of each batch, while no write reaches
its buckets, just before the switch:

1. on the source, delete the batch's unpublished events, returning them. The delete waits for
   the rows a relay has claimed (FOR UPDATE) and skips those it marked published meanwhile;
2. on the target, insert them in their order, with new ids from the target's sequence (higher
   than any there), keeping `event_id` (a second run inserts nothing twice), and NOTIFY;
3. commit the target, then the source.

If the source's commit failed after the target's, both shards would hold the events: published
twice, and consumers skip the second by `event_id`. Nothing is lost either way.
"""

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from ..extensions import InBuckets
from .models import OutboxEvent
from .outbox import NOTIFY_CHANNEL

# asyncpg sends at most 32,767 parameters in one statement: a backlog (the broker down for a
# while) goes in ordered chunks, all in the one transaction.
ROWS_PER_INSERT = 1000
SHARD_KEY = OutboxEvent.__table__.c.shard_key
MOVED_COLUMNS = [column for column in OutboxEvent.__table__.columns if column.name != "id"]


async def move_unpublished(source: AsyncEngine, target: AsyncEngine, in_buckets: InBuckets) -> int:
    """Move the unpublished events of the buckets from `source` to `target`; how many."""
    async with source.begin() as taking:
        taken = await taking.execute(
            delete(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None), in_buckets(SHARD_KEY))
            .returning(OutboxEvent.id, *MOVED_COLUMNS)
        )
        rows: list[dict[str, Any]] = sorted(
            (dict(row) for row in taken.mappings()), key=lambda row: row["id"]
        )
        if not rows:
            return 0
        for row in rows:
            del row["id"]
        async with target.begin() as giving:
            # Multi-row VALUES in order: the target's sequence numbers the rows as given.
            for start in range(0, len(rows), ROWS_PER_INSERT):
                insert = pg_insert(OutboxEvent).values(rows[start : start + ROWS_PER_INSERT])
                await giving.execute(insert.on_conflict_do_nothing(index_elements=["event_id"]))
            await giving.execute(select(func.pg_notify(NOTIFY_CHANNEL, "")))
    return len(rows)
