"""The sharding layer of one app: its engines, replica trackers, shard map and sessions.

Built in the app's lifespan (`capability.py`) and kept on `app.state.sharding`. Everything a
request needs from it is in memory (the map, each replica's replay position), kept current by
two in-app processes: the map refresh and the replica poll.
"""

import asyncio
import logging
import random
from collections.abc import Iterable
from typing import Any, cast

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapper

from ..database import session_class
from ..extensions import Extensions, Primary
from .exceptions import ShardMapUnavailableError, ShardVersionsDisagreeError
from .positions import PositionReader
from .replicas import ReplicaTracker
from .routing import RoutedSession
from .settings import ShardingSettings
from .shard_map import ShardMap, ShardMapError, ensure_map, load_map, map_version
from .stats import ShardingStats
from .tokens import Positions
from .topology import Shard, build_shards, dispose, serving_engines
from .versions import disagreement, shard_heads

logger = logging.getLogger(__name__)


class ShardingRuntime:
    def __init__(self, settings: ShardingSettings, extensions: Extensions) -> None:
        self.settings = settings
        self.shard_key = extensions.shard_key
        self.shards: tuple[Shard, ...] = build_shards(
            settings, connect_args=dict(extensions.database_connect_args)
        )
        self.trackers: dict[int, list[ReplicaTracker]] = {
            shard.number: [
                ReplicaTracker(
                    replica,
                    shard.monitor,
                    max_lag_seconds=settings.replica_max_lag_seconds,
                    timeout_seconds=settings.replica_connect_timeout_seconds,
                )
                for replica in shard.replicas
            ]
            for shard in self.shards
        }
        self.stats = ShardingStats()
        self.position_readers = {
            shard.number: PositionReader(shard.monitor) for shard in self.shards
        }
        self._engines = extensions.engines
        self._engines.extend(serving_engines(self.shards))
        self._primaries_point = extensions.primaries
        self._own_primaries = [Primary(shard.name, shard.primary) for shard in self.shards]
        self._primaries_point.extend(self._own_primaries)
        self._map: ShardMap | None = None
        self._primaries = {shard.primary.sync_engine: shard.number for shard in self.shards}
        self._key_columns: dict[Mapper[Any], tuple[str | None, bool]] = {}
        base = session_class(extensions.session_begin, base=RoutedSession)
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            expire_on_commit=False, sync_session_class=base, sharding=self
        )

    async def start(self) -> None:
        """Read (or make) the map, check the shards' migrations, take a first look at the
        replicas. A shard 0 that does not answer yet is not fatal: the refresh keeps trying."""
        timeout = self.settings.readiness_timeout_seconds * 5
        problem = disagreement(await shard_heads(self.shards, timeout))
        if problem:
            raise ShardVersionsDisagreeError(problem)
        try:
            async with asyncio.timeout(timeout):
                self._map = await ensure_map([shard.primary for shard in self.shards])
        except ShardMapError:
            raise
        except Exception as error:  # noqa: BLE001 - shard 0 away: the refresh keeps trying
            logger.warning("shard map not read at start (%s); retrying", type(error).__name__)
        await self.poll_replicas()

    async def close(self) -> None:
        for reader in self.position_readers.values():
            reader.close()
        for engine in serving_engines(self.shards):
            self._engines.remove(engine)
        for primary in self._own_primaries:
            self._primaries_point.remove(primary)
        await dispose(self.shards)

    # -- the map --------------------------------------------------------------------------

    def shard_map(self) -> ShardMap:
        if self._map is None:
            raise ShardMapUnavailableError
        return self._map

    @property
    def map_loaded(self) -> bool:
        return self._map is not None

    async def refresh_map(self) -> bool:
        """Re-read the map if its version changed; True when it did."""
        directory = self.shards[0].primary
        if self._map is None:
            self._map = await ensure_map([shard.primary for shard in self.shards])
            return True
        if await map_version(directory) == self._map.version:
            return False
        found = await load_map(directory)
        if found is None:  # emptied by hand: keep routing by the last map rather than guess
            logger.error(
                "the shard map on shard 0 is empty; still routing by version %d", self._map.version
            )
            return False
        changed, self._map = found.version != self._map.version, found
        if changed:
            logger.info("shard map now at version %d", found.version)
        return changed

    # -- replicas -------------------------------------------------------------------------

    def usable_replica(self, shard: int, token_lsn: int | None) -> ReplicaTracker | None:
        trackers = self.trackers.get(shard)
        if not trackers:
            return None
        if len(trackers) == 1:  # the usual one replica a shard: no list, no draw
            return trackers[0] if trackers[0].usable(token_lsn) else None
        usable = [t for t in trackers if t.usable(token_lsn)]
        return random.choice(usable) if usable else None  # noqa: S311 - spreads load, no secret

    def replica_failed(self, used: Iterable[tuple[int, int]], reason: str) -> None:
        for shard, number in used:
            self.trackers[shard][number].failed(reason)

    async def poll_replicas(self) -> None:
        await asyncio.gather(*(t.poll() for ts in self.trackers.values() for t in ts))

    # -- writes ---------------------------------------------------------------------------

    def key_column(self, mapper: Mapper[Any]) -> tuple[str | None, bool]:
        """The column holding the shard key of a mapper's rows, and whether it is the whole
        primary key; (None, False) for a table that is not sharded."""
        found = self._key_columns.get(mapper)
        if found is None:
            column = self.shard_key.columns.get(getattr(mapper.local_table, "name", ""))
            primary_key = [c.key for c in mapper.primary_key]
            found = self._key_columns[mapper] = (
                column,
                column is not None and primary_key == [column],
            )
        return found

    def shard_of_primary(self, engine: Engine) -> int | None:
        return self._primaries.get(engine)

    async def positions(self, shards: Iterable[int]) -> Positions:
        """Each shard's WAL position now: past every commit made on it before this call.

        On the shard's monitor connection, not the serving pool: a write's request may still
        hold a connection of that pool, and 100 of them waiting for a second one would wait
        for each other until the pool's timeout. Concurrent writes share one query per shard
        (`positions.py`)."""

        async def position(shard: int) -> tuple[int, int]:
            return shard, await self.position_readers[shard].position()

        return dict(await asyncio.gather(*(position(shard) for shard in sorted(shards))))


def sharding_of(app: FastAPI) -> ShardingRuntime:
    return cast(ShardingRuntime, app.state.sharding)
