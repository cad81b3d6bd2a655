"""The shard map: which shard holds each bucket, read from shard 0 (the directory).

The map lives in the database, not in configuration, so that resharding can change it while
every instance keeps serving: an instance re-reads it when its version changes (polled every
SHARD_MAP_REFRESH_SECONDS, and at once when a write finds its bucket moved). The first map,
made at the first start, spreads the buckets evenly over the shards configured then.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncEngine

from .buckets import BUCKETS, bucket_of, even_split
from .models import HeldBucket, ShardMapEntry

# pg_advisory_xact_lock key: one map change (first map, move) at a time, across instances.
MAP_LOCK_KEY = 0x5_4A2D


class ShardMapError(RuntimeError):
    """The map and the configured shards do not fit together."""


@dataclass(frozen=True, slots=True)
class ShardMap:
    version: int
    owners: tuple[int, ...]
    """The shard of each bucket, by bucket number."""
    strays: tuple[int | None, ...] = (None,) * BUCKETS
    """A shard that may keep rows of each bucket without holding it (resharding), or None."""

    def shard_of(self, key: str) -> int:
        return self.owners[bucket_of(key)]

    def buckets_of(self, shard: int) -> list[int]:
        return [bucket for bucket, owner in enumerate(self.owners) if owner == shard]

    def strays_on(self, shard: int) -> list[int]:
        """Buckets whose rows `shard` may keep but must not serve."""
        return [bucket for bucket, on in enumerate(self.strays) if on == shard]


async def map_version(directory: AsyncEngine) -> int | None:
    async with directory.connect() as connection:
        version: int | None = await connection.scalar(select(func.max(ShardMapEntry.version)))
    return version


async def load_map(directory: AsyncEngine) -> ShardMap | None:
    """The map on shard 0, or None before the first start has made it."""
    columns = (ShardMapEntry.bucket, ShardMapEntry.shard, ShardMapEntry.stray_on)
    async with directory.connect() as connection:
        rows = (await connection.execute(select(*columns).order_by(ShardMapEntry.bucket))).all()
        version = await connection.scalar(select(func.max(ShardMapEntry.version)))
    if not rows or version is None:
        return None
    if [row.bucket for row in rows] != list(range(BUCKETS)):
        raise ShardMapError(f"the shard map on shard 0 does not cover buckets 0-{BUCKETS - 1}")
    return ShardMap(version, tuple(r.shard for r in rows), tuple(r.stray_on for r in rows))


async def ensure_map(primaries: Sequence[AsyncEngine]) -> ShardMap:
    """The map, made on first use: buckets spread evenly over the shards, and each shard told
    which buckets it holds. Held buckets are written before the map, so a start that dies half
    way leaves no map, and the next start makes it again."""
    directory = primaries[0]
    found = await load_map(directory)
    if found is None:
        async with directory.begin() as connection:
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MAP_LOCK_KEY}
            )
            if await connection.scalar(select(func.count()).select_from(ShardMapEntry)) == 0:
                owners = even_split(len(primaries))
                for number, primary in enumerate(primaries):
                    await hold_buckets(primary, [b for b, s in enumerate(owners) if s == number])
                rows = [{"bucket": b, "shard": s, "version": 1} for b, s in enumerate(owners)]
                await connection.execute(insert(ShardMapEntry), rows)
        found = await load_map(directory)
        if found is None:
            raise ShardMapError("the shard map was not written on shard 0")
    configured = len(primaries)
    stranded = sorted({shard for shard in found.owners if shard >= configured})
    if stranded:
        raise ShardMapError(
            f"the shard map places buckets on shard {stranded[0]}, but only {configured} "
            "shards are configured (DATABASE_URL and SHARD_URLS): add it back to SHARD_URLS"
        )
    return found


async def hold_buckets(primary: AsyncEngine, buckets: Sequence[int]) -> None:
    """Let `primary` accept writes to `buckets` (no-op for those it already holds)."""
    if not buckets:
        return
    async with primary.begin() as connection:
        statement = upsert(HeldBucket).on_conflict_do_nothing(index_elements=["bucket"])
        await connection.execute(statement, [{"bucket": b, "fenced": False} for b in buckets])
