"""Sharding in the capability protocol.

- lifespan: an engine per shard and per replica, the shard map, and the app's sessions
  replaced by routed ones (`app.state.sessionmaker`: every session of the app, in every
  domain, now places rows by shard; the core's engine stays for its own readiness check);
- readiness: each shard's primary (critical), each replica (not critical: reads fall back to
  the primary), the map (critical), the shards' migrations (reported, see versions.py);
- middleware (position 40, inside rate limiting): consistency tokens, retries across moves;
- processes (in every API process): the map refresh and the replica poll;
- metrics: replica lag and health, routing per shard and server, fallbacks, fence waits;
- extension points: `items.page` (lists across shards), `databases` (every shard is
  migrated) and `primaries` (every shard's primary, for the work that visits each: the outbox
  relay), the last in its lifespan, and `migrated` (the write guard on every table the
  `shard_key` names, by its column, after every upgrade: `guards.py`); reads through
  another `items.read` (a cache) load from primaries, see below.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import wraps
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from ..capability import Capability, Middleware, Process
from ..core_config import CoreSettings
from ..extensions import Extensions
from ..health.checks import ReadinessCheck
from ..items.hooks import ItemReader, read_from_database
from .config import Settings as ShardingSection
from .guards import guarding
from .metrics import metrics
from .middleware import sharding_middleware
from .replicas import ReplicaTracker
from .routing import primaries_only
from .runtime import ShardingRuntime, sharding_of
from .scatter import page_across_shards
from .topology import Shard, shard_urls
from .versions import disagreement, shard_heads

logger = logging.getLogger(__name__)
MIDDLEWARE_POSITION = 40
MIGRATIONS_CHECK_SHARE = 0.5
"""Of READINESS_TIMEOUT_SECONDS, how long the migrations check waits for each shard's
revisions: a shard that has not answered by then is left out (its own check names it), so the
check still reports whether the shards that answer agree instead of timing out as a whole."""


@asynccontextmanager
async def sharding(app: FastAPI) -> AsyncIterator[None]:
    runtime = ShardingRuntime(app.state.settings, app.state.extensions)
    try:
        await runtime.start()
        app.state.sharding = runtime
        app.state.sessionmaker = runtime.sessionmaker
        hooks = app.state.extensions.items
        if hooks.read is not read_from_database:
            hooks.read = loading_from_primaries(hooks.read)
        yield
    finally:
        await runtime.close()


def loading_from_primaries(read: ItemReader) -> ItemReader:
    """A read hook other than the default keeps what it loads beyond the request (a cache).
    Its loads go to primaries: from a lagging replica, a load right after a write's
    invalidation would store the old row again, and serve it for a whole TTL."""
    if getattr(read, "loads_from_primaries", False):
        return read

    @wraps(read)
    async def wrapped(*arguments: Any) -> Any:
        token = primaries_only.set(True)
        try:
            return await read(*arguments)
        finally:
            primaries_only.reset(token)

    wrapped.loads_from_primaries = True  # type: ignore[attr-defined]
    return wrapped


def readiness(app: FastAPI) -> Iterable[ReadinessCheck]:
    runtime = sharding_of(app)
    checks = [ReadinessCheck(shard.name, _answers(shard)) for shard in runtime.shards]
    checks.append(ReadinessCheck("shard_map", _map_loaded(runtime)))
    checks.append(ReadinessCheck("shard_migrations", _migrations_agree(runtime), critical=False))
    for trackers in runtime.trackers.values():
        checks.extend(ReadinessCheck(t.name, _replica_usable(t), critical=False) for t in trackers)
    return checks


def _answers(shard: Shard) -> Any:
    async def select_one() -> None:
        async with shard.monitor.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return select_one


def _map_loaded(runtime: ShardingRuntime) -> Any:
    async def loaded() -> None:
        if not runtime.map_loaded:
            await runtime.refresh_map()

    return loaded


class ShardMigrationsDisagree(Exception):  # noqa: N818 - named for the readiness report
    pass


def _migrations_agree(runtime: ShardingRuntime) -> Any:
    each_shard = runtime.settings.readiness_timeout_seconds * MIGRATIONS_CHECK_SHARE

    async def agree() -> None:
        problem = disagreement(await shard_heads(runtime.shards, timeout_seconds=each_shard))
        if problem:
            raise ShardMigrationsDisagree(problem)

    return agree


class ReplicaUnusable(Exception):  # noqa: N818 - named for the readiness report
    pass


def _replica_usable(tracker: ReplicaTracker) -> Any:
    async def usable() -> None:
        if not tracker.usable():
            raise ReplicaUnusable(tracker.problem or "not usable")

    return usable


async def refresh_map(app: FastAPI) -> None:
    """Every SHARD_MAP_REFRESH_SECONDS; like the replica poll, no request's work, so outside
    traces (shard 0's primary is a traced engine: each look would be a trace of its own)."""
    runtime = sharding_of(app)
    while True:
        await asyncio.sleep(runtime.settings.shard_map_refresh_seconds)
        try:
            with app.state.extensions.untraced_work():
                await runtime.refresh_map()
        except Exception as error:  # noqa: BLE001 - shard 0 away: keep routing by the last map
            logger.warning("shard map not refreshed (%s)", type(error).__name__)


async def poll_replicas(app: FastAPI) -> None:
    runtime = sharding_of(app)
    while True:
        await asyncio.sleep(runtime.settings.replica_poll_seconds)
        with app.state.extensions.untraced_work():
            await runtime.poll_replicas()


def shard_databases(settings: CoreSettings) -> list[str]:
    """`shard_urls` of the app's settings, which hold this capability's section beside the
    core's (the extension point types them as the core's alone)."""
    if not isinstance(settings, ShardingSection):
        raise TypeError("the app's settings have no sharding section")
    return shard_urls(settings)


def extend(extensions: Extensions) -> None:
    extensions.items.page = page_across_shards
    extensions.databases = shard_databases
    extensions.migrated.append(guarding(extensions))


CAPABILITY = Capability(
    name="sharding",
    lifespan=sharding,
    readiness=readiness,
    middleware=(Middleware(MIDDLEWARE_POSITION, sharding_middleware),),
    processes=(
        Process("sharding-map-refresh", refresh_map, in_app=True),
        Process("sharding-replica-poll", poll_replicas, in_app=True),
    ),
    metrics=metrics,
    extend=extend,
)
