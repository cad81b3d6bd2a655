"""The shards and their replicas: one engine (one connection pool) for each.

Shard 0 is DATABASE_URL's database, shards 1, 2, ... come from SHARD_URLS, and each may have
read replicas (SHARD_REPLICA_URLS). Every server is reached the way the single database is:
a shard URL without a user and password logs in as DATABASE_URL does (on RDS: the app's role,
with IAM tokens when DATABASE_IAM_AUTH is set, so no shard's password is ever configured), a
replica URL without them as its shard (a physical replica has exactly its primary's roles),
and DATABASE_SSLMODE applies to every one.

Each server also has a `monitor` engine of one connection, for the replica polls, the
readiness checks and the write tokens' WAL positions: they never wait behind requests for a
connection of the serving pool (a busy pool would pass for a dead server, and a write waiting
for a second connection could wait for the others forever), and a check cut off by its timeout
never cancels a query on a connection that requests use. Its users take turns (`Monitor`).
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from ..core_config import normalise_database_url, with_ssl_mode
from ..database_iam import authenticate_with_iam_tokens
from .settings import ShardingSettings

logger = logging.getLogger(__name__)
CLOSE_TIMEOUT_SECONDS = 5.0


class Monitor:
    """A server's monitor engine (a pool of one connection), which its users take in turns.

    SQLAlchemy's QueuePool does not wake a checkout waiting for its one connection when the
    connect of the checkout ahead of it fails: nothing comes back to the pool's queue, so the
    waiter waits its whole `pool_timeout`. A server refusing connections (a shard down) then
    held the second of two concurrent users (readiness checks the shard and its migrations at
    once) for the check's whole timeout: readiness answered slowly exactly when a shard was
    down. Behind this lock the pool never has a waiter: each user in turn takes the pooled
    connection, or tries a connect of its own and fails as fast as the server refuses it.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._turn = asyncio.Lock()

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        async with self._turn, self.engine.connect() as connection:
            yield connection


@dataclass(frozen=True, slots=True)
class Replica:
    shard: int
    number: int
    engine: AsyncEngine
    monitor: Monitor

    @property
    def name(self) -> str:
        return f"shard_{self.shard}_replica_{self.number}"


@dataclass(frozen=True, slots=True)
class Shard:
    number: int
    primary: AsyncEngine
    replicas: tuple[Replica, ...]
    monitor: Monitor

    @property
    def name(self) -> str:
        return f"shard_{self.number}"

    @property
    def id(self) -> str:
        """Its identity in SQLAlchemy's sharded session (and in each loaded row's key)."""
        return str(self.number)


def logging_in_as(raw: str, login: str, settings: ShardingSettings) -> str:
    """`raw`, normalised, with the user and password of `login` when it names no user, and the
    TLS mode of DATABASE_SSLMODE."""
    url = make_url(normalise_database_url(raw))
    if url.username is None:
        found = make_url(login)
        url = url.set(username=found.username, password=found.password)
    plain = url.render_as_string(hide_password=False)
    return with_ssl_mode(plain, settings.database_sslmode)


def shard_urls(settings: ShardingSettings) -> list[str]:
    """Every shard's primary, shard 0 first; what `alembic upgrade heads` migrates."""
    main = settings.database_url
    return [main, *(logging_in_as(url, main, settings) for url in settings.shard_urls)]


def replica_urls(settings: ShardingSettings) -> list[tuple[int, str]]:
    primaries = shard_urls(settings)
    return [
        (shard, logging_in_as(raw, primaries[shard], settings))
        for shard, raw in settings.replica_urls()
    ]


def describe(engine: AsyncEngine) -> str:
    """host:port/database, for logs and the status command (never the password)."""
    url = engine.url
    return f"{url.host}:{url.port or 5432}/{url.database}"


def build_shards(
    settings: ShardingSettings, *, pooled: bool = True, **options: Any
) -> tuple[Shard, ...]:
    """Engines for every shard and replica. `pooled=False` opens a connection per use."""

    def engines(url: str, **connect_args: Any) -> tuple[AsyncEngine, Monitor]:
        arguments = {
            "hide_parameters": True,  # as the main engine: parameters are the clients' data
            **options,
            "connect_args": {**options.get("connect_args", {}), **connect_args},
        }
        if not pooled:
            engine = authenticated(create_async_engine(url, poolclass=NullPool, **arguments))
            return engine, Monitor(engine)
        serving = create_async_engine(
            url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_pre_ping=True,
            **arguments,
        )
        monitor = create_async_engine(
            url, pool_size=1, max_overflow=0, pool_pre_ping=True, **arguments
        )
        return authenticated(serving), Monitor(authenticated(monitor))

    def authenticated(engine: AsyncEngine) -> AsyncEngine:
        """With DATABASE_IAM_AUTH, a fresh IAM token per connection, as the main engine's."""
        if settings.database_iam_auth:
            authenticate_with_iam_tokens(engine)
        return engine

    replicas: dict[int, list[Replica]] = {}
    for shard, url in replica_urls(settings):
        found = replicas.setdefault(shard, [])
        timeout = settings.replica_connect_timeout_seconds
        found.append(Replica(shard, len(found), *engines(url, timeout=timeout)))
    shards = []
    for number, url in enumerate(shard_urls(settings)):
        primary, monitor = engines(url)
        shards.append(Shard(number, primary, tuple(replicas.get(number, ())), monitor))
    return tuple(shards)


def serving_engines(shards: Sequence[Shard]) -> list[AsyncEngine]:
    """The engines requests use (not the monitors): the `engines` extension point (tracing)."""
    return [e for s in shards for e in (s.primary, *(r.engine for r in s.replicas))]


async def dispose(shards: Sequence[Shard], timeout_seconds: float = CLOSE_TIMEOUT_SECONDS) -> None:
    """Close every pool. A server that stopped answering (a partition, a frozen replica) would
    keep a graceful close waiting forever, and the service from stopping: each engine gets
    `timeout_seconds`, then its remaining connections are dropped without a goodbye. The
    engines close together, so the stop takes `timeout_seconds` at most, however many servers
    hang (one after the other, two per frozen replica would add up past a container's stop
    timeout)."""
    engines = {id(e): e for s in shards for e in (s.primary, s.monitor.engine)}
    engines.update(
        {id(e): e for s in shards for r in s.replicas for e in (r.engine, r.monitor.engine)}
    )
    await asyncio.gather(*(_dispose(engine, timeout_seconds) for engine in engines.values()))


async def _dispose(engine: AsyncEngine, timeout_seconds: float) -> None:
    try:
        async with asyncio.timeout(timeout_seconds):
            await engine.dispose()
    except TimeoutError:
        logger.warning("%s did not answer its close within %g s", describe(engine), timeout_seconds)
        await engine.dispose(close=False)
