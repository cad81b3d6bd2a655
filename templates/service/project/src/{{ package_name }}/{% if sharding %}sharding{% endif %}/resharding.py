"""Online resharding: move buckets from one shard to another while the service keeps serving.

A move of some buckets (all held by one source shard) goes:

1. mark: the map says the target may keep rows of the buckets (`stray_on`), and the move waits
   a grace period, so every instance leaves those rows out of lists before any exists;
2. then for each batch of buckets:
   a. the target forgets anything it has of them (left by a move that stopped half way);
   b. copy every row of the batch, table by table, from source to target, while writes go on;
   c. fence: the source marks the batch fenced (`shard_buckets.fenced`). The update waits for
      the writes in flight (each holds its bucket's row FOR SHARE until it commits); from then
      on the source refuses writes to the batch (SQLSTATE SHFNC), which instances retry;
   d. catch up: compare each row's digest on both sides, copy what changed since (b), delete
      what the source deleted;
   e. verify: row count and checksum of each table must match on both sides, or the batch is
      undone (source unfenced, target cleared) and the move stops;
   f. the target's replicas replay the copy, so a read sent there after the switch finds it;
   g. what capabilities keep of the batch outside the sharded tables moves too (the
      `moved_with_buckets` extension point: messaging's unpublished events, so that the
      target's relay publishes them before any event written there after the switch);
   h. switch: the target holds the batch, the map names it (the source now keeps strays), the
      source lets the batch go; the writes refused during the fence are retried on the target;
3. after a second grace period, in which every instance re-reads the map (reads routed by the
   old map still find the rows on the source until then), delete the moved rows from the
   source and clear the marks.

The fence lasts (c) to (h) of one batch: keep batches small for a short fence. One move at a
time (an advisory lock on shard 0). A move that stopped leaves marks that `clean-up` clears.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..extensions import MoveWithBuckets
from .buckets import format_ranges, in_buckets
from .copying import ShardedTables, catch_up, copy_rows, delete_rows, verify, writing
from .models import HeldBucket, ShardMapEntry
from .shard_map import MAP_LOCK_KEY, ShardMap, hold_buckets, load_map
from .tokens import format_lsn, parse_lsn
from .topology import Shard

logger = logging.getLogger(__name__)

MOVE_LOCK_KEY = 0x5_4A2E


class ReshardError(Exception):
    """The move cannot start or go on; the message says why and what state it left."""


@dataclass(frozen=True, slots=True)
class Fence:
    buckets: tuple[int, ...]
    started: float
    ended: float
    """time.monotonic() at the fence and at the switch."""


@dataclass(slots=True)
class MoveReport:
    source: int
    target: int
    buckets: tuple[int, ...]
    copied: int = 0
    caught_up: int = 0
    moved_with: int = 0
    """Rows that `moved_with_buckets` moved (unpublished events)."""
    deleted: int = 0
    fences: list[Fence] = field(default_factory=list)


class Resharder:
    def __init__(
        self,
        shards: Sequence[Shard],
        tables: ShardedTables,
        *,
        say: Callable[[str], None] = logger.info,
        replica_wait_seconds: float = 30.0,
        moved_with: Sequence[MoveWithBuckets] = (),
    ) -> None:
        self.shards = shards
        self.tables = tables
        self.moved_with = moved_with
        self.say = say
        self.replica_wait_seconds = replica_wait_seconds

    @property
    def directory(self) -> AsyncEngine:
        return self.shards[0].primary

    async def move(
        self,
        buckets: Sequence[int],
        target: int,
        *,
        batch_size: int = 64,
        grace_seconds: float = 2.0,
    ) -> MoveReport:
        async with self.move_lock():
            found = await load_map(self.directory)
            if found is None:
                raise ReshardError("there is no shard map yet: start the service once first")
            source = self._source(found, buckets, target)
            report = MoveReport(source, target, tuple(sorted(buckets)))
            self.say(f"moving buckets {format_ranges(buckets)} from shard {source} to {target}")
            await self._change_map(report.buckets, stray_on=target)
            await asyncio.sleep(grace_seconds)  # every instance leaves the copies out of lists
            switched: list[int] = []
            try:
                for start in range(0, len(report.buckets), batch_size):
                    batch = report.buckets[start : start + batch_size]
                    await self._move_batch(report, batch)
                    switched.extend(batch)
            except BaseException:
                left = [b for b in report.buckets if b not in set(switched)]
                await self._change_map(left, stray_on=None)
                raise
            self.say(f"switched; waiting {grace_seconds:g} s for every instance to re-read the map")
            await asyncio.sleep(grace_seconds)
            source_engine = self.shards[source].primary
            report.deleted = await delete_rows(source_engine, self.tables, report.buckets)
            await self._change_map(report.buckets, stray_on=None)
            self.say(f"deleted {report.deleted} moved rows from shard {source}; done")
            return report

    async def clean_up(self) -> list[str]:
        """Delete every row a shard keeps of buckets it does not hold (what a move that stopped
        leaves behind); clear the map's marks. Under the move lock: never during a move."""
        async with self.move_lock():
            found = await load_map(self.directory)
            if found is None:
                return ["no shard map yet: nothing to clean up"]
            lines = []
            for shard in self.shards:
                elsewhere = [b for b, owner in enumerate(found.owners) if owner != shard.number]
                deleted = (
                    await delete_rows(shard.primary, self.tables, elsewhere) if elsewhere else 0
                )
                lines.append(
                    f"shard {shard.number}: deleted {deleted} rows of buckets held elsewhere"
                )
            marked = [b for b, on in enumerate(found.strays) if on is not None]
            if marked:
                await self._change_map(marked, stray_on=None)
            return lines

    @asynccontextmanager
    async def move_lock(self) -> AsyncIterator[None]:
        async with self.directory.connect() as opened:
            connection = await opened.execution_options(isolation_level="AUTOCOMMIT")
            key = {"key": MOVE_LOCK_KEY}
            if not await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), key):
                raise ReshardError("another move (or clean-up) is running on these shards")
            try:
                yield
            finally:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)

    def _source(self, found: ShardMap, buckets: Sequence[int], target: int) -> int:
        if not 0 <= target < len(self.shards):
            raise ReshardError(f"there is no shard {target} (shards: 0-{len(self.shards) - 1})")
        if not buckets:
            raise ReshardError("no buckets to move")
        sources = {found.owners[bucket] for bucket in buckets}
        if len(sources) > 1:
            raise ReshardError(
                f"the buckets are on shards {sorted(sources)}: move one source shard at a time"
            )
        source = sources.pop()
        if source == target:
            raise ReshardError(f"buckets {format_ranges(buckets)} are on shard {target} already")
        marked = [bucket for bucket in buckets if found.strays[bucket] is not None]
        if marked:
            raise ReshardError(
                f"buckets {format_ranges(marked)} have rows left by an earlier move: "
                "run `clean-up` first"
            )
        return source

    async def _move_batch(self, report: MoveReport, batch: Sequence[int]) -> None:
        source, target = self.shards[report.source].primary, self.shards[report.target].primary
        await self._forget(target, batch)
        report.copied += await copy_rows(source, target, self.tables, batch)
        async with source.begin() as connection:
            fenced = await connection.execute(
                update(HeldBucket).where(HeldBucket.bucket.in_(batch)).values(fenced=True)
            )
        started = time.monotonic()
        switched = moving = False
        try:
            if fenced.rowcount != len(batch):
                raise ReshardError(
                    f"shard {report.source} does not hold all of {format_ranges(batch)}"
                )
            report.caught_up += await catch_up(source, target, self.tables, batch)
            await verify(source, target, self.tables, batch)
            await self._replicas_replayed(report.target)
            await hold_buckets(target, batch)
            moving = True
            report.moved_with += await self._move_with(source, target, batch)
            await self._change_map(batch, shard=report.target, stray_on=report.source)
            switched = True
            async with source.begin() as connection:
                await connection.execute(delete(HeldBucket).where(HeldBucket.bucket.in_(batch)))
        except BaseException:
            if not switched:
                try:
                    if moving:  # back while still fenced, before any new write reaches the source
                        await self._move_with(target, source, batch)
                finally:  # even when that failed: writes to these buckets go on at the source
                    await self._unfence(source, batch)
                    await self._forget(target, batch)
            raise
        fence = Fence(tuple(batch), started, time.monotonic())
        report.fences.append(fence)
        held = fence.ended - fence.started
        self.say(f"buckets {format_ranges(batch)}: switched after {held:.3f} s fenced")

    async def _move_with(
        self, source: AsyncEngine, target: AsyncEngine, batch: Sequence[int]
    ) -> int:
        def of_batch(key: Any) -> Any:
            return in_buckets(key, batch)

        return sum([await move(source, target, of_batch) for move in self.moved_with])

    async def _forget(self, target: AsyncEngine, batch: Sequence[int]) -> None:
        async with writing(target) as connection:
            await connection.execute(delete(HeldBucket).where(HeldBucket.bucket.in_(batch)))
        await delete_rows(target, self.tables, batch)

    async def _unfence(self, source: AsyncEngine, batch: Sequence[int]) -> None:
        async with source.begin() as connection:
            await connection.execute(
                update(HeldBucket).where(HeldBucket.bucket.in_(batch)).values(fenced=False)
            )

    async def _replicas_replayed(self, target: int) -> None:
        shard = self.shards[target]
        if not shard.replicas:
            return
        async with shard.primary.connect() as connection:
            position = await connection.scalar(text("SELECT pg_current_wal_insert_lsn()::text"))
        lsn = parse_lsn(str(position))
        for replica in shard.replicas:
            try:
                async with asyncio.timeout(self.replica_wait_seconds):
                    await _replayed(replica.engine, lsn)
            except Exception as error:  # noqa: BLE001 - a replica that is down is not read either
                self.say(f"{replica.name} did not replay the copy ({type(error).__name__})")

    async def _change_map(
        self, buckets: Sequence[int], *, stray_on: int | None, shard: int | None = None
    ) -> None:
        """Change the map's entries of `buckets` (their shard, their strays) as a new version."""
        if not buckets:
            return
        async with self.directory.begin() as connection:
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            await connection.execute(lock, {"key": MAP_LOCK_KEY})
            version = await connection.scalar(select(func.max(ShardMapEntry.version)))
            changes: dict[str, int | None] = {"stray_on": stray_on, "version": (version or 0) + 1}
            if shard is not None:
                changes["shard"] = shard
            entries = update(ShardMapEntry).where(ShardMapEntry.bucket.in_(buckets))
            await connection.execute(entries.values(**changes))


async def _replayed(replica: AsyncEngine, lsn: int) -> None:
    query = text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)")
    while True:
        async with replica.connect() as connection:
            if await connection.scalar(query, {"lsn": format_lsn(lsn)}):
                return
        await asyncio.sleep(0.05)
