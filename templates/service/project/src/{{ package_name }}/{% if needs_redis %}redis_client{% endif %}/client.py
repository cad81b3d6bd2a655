"""The shared Redis client, its key naming, and its readiness check.

The client is opened in the app's lifespan (`main.py`), kept on `app.state.redis`, and reached
by endpoints through `RedisDep`. Its deadline is short on purpose: Redis answers in well under
a millisecond, so a command that takes longer means Redis is slow or gone, and every caller has
a better answer than waiting (the cache reads the database instead). Every command, and every
pipeline as a whole, ends within `REDIS_SOCKET_TIMEOUT_SECONDS`: waiting for a free connection,
connecting, sending, reading and the one immediate retry of a dropped connection all count
against that one deadline, and running out of it raises redis-py's own `TimeoutError`.

Replies are decoded to `str`. Every key starts with `REDIS_KEY_PREFIX` (see `redis_key`), so
several services, and several test runs, can share one Redis without seeing each other's keys.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Protocol, TypeVar, cast

from fastapi import Depends, Request
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..health.checks import ReadinessCheck
from .config import Settings

# Connections idle for longer than this are PINGed before use, so a connection that a proxy
# or a failover closed is replaced before a command is lost on it.
HEALTH_CHECK_INTERVAL_SECONDS = 15
# Connections per process for commands and pipelines. When all are busy (a burst of concurrent
# requests), a command waits for a free one, within its deadline, instead of failing at once as
# the default pool does.
MAX_CONNECTIONS = 100
# More that the pool may open for connections held between commands (a pub/sub subscription, a
# WATCH pipeline, `client()`), so that those never take the connection a waiting command needs.
HELD_CONNECTIONS = 10

T = TypeVar("T")


class Bounds:
    """One deadline per Redis command and at most `MAX_CONNECTIONS` commands on the wire at once.

    redis-py's own ways cost a third of a command's CPU here (scaffold's request budget measured
    it): on Python 3.11 a socket timeout wraps every write in `asyncio.wait_for`, which starts a
    task per command, and its blocking pool takes a condition and a timer per command even when
    a connection is free. `asyncio.timeout` starts no task, and a free slot of a semaphore is
    taken without waiting. Redis-py disconnects a connection whose reply a deadline cut short,
    so no later command reads that reply.
    """

    def __init__(self, seconds: float, connections: int) -> None:
        self.seconds = seconds
        self.connections = connections
        self.slots = asyncio.Semaphore(connections)

    async def run(self, command: Callable[[], Awaitable[T]]) -> T:
        """`command()` within the deadline, holding a slot."""
        try:
            async with asyncio.timeout(self.seconds), self.slots:
                return await command()
        except TimeoutError:
            raise self.timed_out() from None

    async def run_without_slot(self, command: Callable[[], Awaitable[T]]) -> T:
        """`command()` within the deadline, for a connection a pipeline already holds."""
        try:
            async with asyncio.timeout(self.seconds):
                return await command()
        except TimeoutError:
            raise self.timed_out() from None

    def timed_out(self) -> RedisTimeoutError:
        # redis-py's TimeoutError is a RedisError, which every caller of the client handles.
        return RedisTimeoutError(f"no reply from Redis within {self.seconds}s")


class BoundedPipeline(Pipeline):
    bounds: Bounds

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        # `execute` releases its connection before it returns: the slot covers the connection.
        run: Callable[[bool], Awaitable[list[Any]]] = super().execute
        return await self.bounds.run(lambda: run(raise_on_error))

    async def immediate_execute_command(self, *args: Any, **options: Any) -> Any:
        # WATCH and the commands after it (unused here), and script checks inside `execute`
        # (already within its bounds): the connection stays with the pipeline until it
        # executes or resets.
        run: Callable[..., Awaitable[Any]] = super().immediate_execute_command
        return await self.bounds.run_without_slot(lambda: run(*args, **options))


class BoundedRedis(Redis):
    """redis-py's client with every command and every pipeline under `Bounds`."""

    bounds: Bounds

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        # `Bounds.run` written out: every cached read and rate-limit check comes through here,
        # and a coroutine and a closure fewer per command is measurable (docs/performance.md).
        bounds = self.bounds
        run: Callable[..., Awaitable[Any]] = super().execute_command
        try:
            async with asyncio.timeout(bounds.seconds), bounds.slots:
                return await run(*args, **options)
        except TimeoutError:
            raise bounds.timed_out() from None

    def client(self) -> "BoundedRedis":
        """A client on one connection of its own (redis-py's `client()`), within the same bounds."""
        single = cast(BoundedRedis, super().client())
        single.bounds = self.bounds
        return single

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        pipeline = BoundedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )
        pipeline.bounds = self.bounds
        return pipeline


def build_redis(settings: Settings) -> Redis:
    """The client; it connects on first use, so the app starts even while Redis is down."""
    seconds = settings.redis_socket_timeout_seconds
    pool = ConnectionPool.from_url(
        settings.redis_url,
        max_connections=MAX_CONNECTIONS + HELD_CONNECTIONS,
        decode_responses=True,
        # redis-py 8 gives sockets a 5 s timeout by default, which on Python 3.11 starts a task
        # per write (`asyncio.wait_for`); the bounds' deadline already covers every read and write.
        # So a use of a connection outside the bounds (a pub/sub subscription) brings its own.
        socket_timeout=None,
        socket_connect_timeout=seconds,
        health_check_interval=HEALTH_CHECK_INTERVAL_SECONDS,
        retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
    )
    client = cast(BoundedRedis, BoundedRedis.from_pool(pool))  # aclose() closes the pool too
    client.bounds = Bounds(seconds, MAX_CONNECTIONS)
    return client


class KeyPrefixed(Protocol):
    """Settings that name this service's Redis keys: the app's, or a capability's own part."""

    @property
    def redis_key_prefix(self) -> str: ...


def redis_key(settings: KeyPrefixed, *parts: str) -> str:
    """`<REDIS_KEY_PREFIX>:<part>:<part>...`, the only way this service names a key."""
    return ":".join((settings.redis_key_prefix, *parts))


def redis_readiness_check(client: Redis, *, critical: bool) -> ReadinessCheck:
    async def ping() -> None:
        await client.ping()

    return ReadinessCheck(name="redis", probe=ping, critical=critical)


async def get_redis(request: Request) -> Redis:  # async: FastAPI runs sync ones in threads
    return cast(Redis, request.app.state.redis)


RedisDep = Annotated[Redis, Depends(get_redis)]
