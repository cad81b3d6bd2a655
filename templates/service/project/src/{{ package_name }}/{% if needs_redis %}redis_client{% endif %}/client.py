"""The shared Redis client, its key naming, and its readiness check.

The client is opened in the app's lifespan (`main.py`), kept on `app.state.redis`, and reached
by endpoints through `RedisDep`. Its timeouts are short on purpose: Redis answers in well under
a millisecond, so a command that takes longer means Redis is slow or gone, and every caller has
a better answer than waiting (the cache reads the database instead). A dropped connection is
retried once, at once; a timeout is not retried, so no command blocks for longer than
`REDIS_SOCKET_TIMEOUT_SECONDS` (plus one reconnect).

Replies are decoded to `str`. Every key starts with `REDIS_KEY_PREFIX` (see `redis_key`), so
several services, and several test runs, can share one Redis without seeing each other's keys.
"""

from typing import Annotated, cast

from fastapi import Depends, Request
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from ..config import Settings
from ..health.checks import ReadinessCheck

# Connections idle for longer than this are PINGed before use, so a connection that a proxy
# or a failover closed is replaced before a command is lost on it.
HEALTH_CHECK_INTERVAL_SECONDS = 15
# Connections per process. When all are busy (a burst of concurrent requests), a command waits
# for a free one, up to the socket timeout, instead of failing at once as the default pool does.
MAX_CONNECTIONS = 100


def build_redis(settings: Settings) -> Redis:
    """The client; it connects on first use, so the app starts even while Redis is down."""
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=MAX_CONNECTIONS,
        timeout=settings.redis_socket_timeout_seconds,
        decode_responses=True,
        socket_timeout=settings.redis_socket_timeout_seconds,
        socket_connect_timeout=settings.redis_socket_timeout_seconds,
        health_check_interval=HEALTH_CHECK_INTERVAL_SECONDS,
        retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes it


def redis_key(settings: Settings, *parts: str) -> str:
    """`<REDIS_KEY_PREFIX>:<part>:<part>...`, the only way this service names a key."""
    return ":".join((settings.redis_key_prefix, *parts))


def redis_readiness_check(client: Redis, *, critical: bool) -> ReadinessCheck:
    async def ping() -> None:
        await client.ping()

    return ReadinessCheck(name="redis", probe=ping, critical=critical)


async def get_redis(request: Request) -> Redis:  # async: FastAPI runs sync ones in threads
    return cast(Redis, request.app.state.redis)


RedisDep = Annotated[Redis, Depends(get_redis)]
