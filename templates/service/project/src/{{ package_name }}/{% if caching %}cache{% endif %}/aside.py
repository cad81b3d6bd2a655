"""Cache-aside for one kind of record: read Redis, else load from the database and store.

Reads. A hit returns the cached value, or the cached "does not exist" (negative caching: ids
that are not there are remembered for the shorter negative TTL, so a flood of requests for them
never reaches the database). A miss loads the record once, however many requests want it at
the same moment (stampede protection, two layers):
- in this process, concurrent misses of one key share one load (an asyncio future per key);
- across processes, the loader first takes `SET <key>:lock <token> NX PX <lock TTL>`; the
  others poll the key for at most the lock TTL and take the value the holder stored.

Every value is stored with a TTL, jittered by ±`jitter` so keys filled together (after a
deploy or a flush) do not all expire together.

Writes. The caller commits, then calls `invalidate`, which deletes the key and its lock. A
load stores its value only while it still holds the lock (one Lua compare-and-set), so a load
that read the row before the commit cannot put the old value back after the invalidation.

Read ahead. A hit may cost no round trip of its own: a command sent before the request's handler
ran (the rate limiter's check) may have read the key already (`redis_client/read_ahead.py`).
Otherwise the reads of one event-loop turn share one `MGET` (`redis_client/turn_batch.py`).

Failures. A Redis error or timeout never fails a read: the record is loaded from the database,
and the fallback is counted (`CacheStats.fallbacks`) and logged, at most once per interval.
The client's socket timeout bounds how long a read waits for Redis (see `redis_client.py`), and
after a failure reads leave Redis alone for `REDIS_RETRY_AFTER_SECONDS`, so a dead or
black-holed Redis costs one timeout per second, not one per request. Invalidations are always
tried: a write pays the timeout rather than leave a stale copy behind.
"""

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..redis_client.read_ahead import NOT_READ, forget, take
from ..redis_client.turn_batch import TurnBatch
from .stats import CacheStats

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

# What Redis failing looks like: its own errors, and the socket's (refused, reset, timed out).
REDIS_FAILURES = (RedisError, OSError)
# The stored form of "the database has no such record" (a real value is a JSON object).
NOT_FOUND = "null"
_NOT_FOUND_VALUES = (NOT_FOUND, NOT_FOUND.encode())  # as str or bytes, however Redis decodes
LOCK_POLL_SECONDS = 0.02
FAILURE_LOG_INTERVAL_SECONDS = 10.0
REDIS_RETRY_AFTER_SECONDS = 1.0

# KEYS: value key, lock key. ARGV: lock token, value, TTL in ms. Stores only while the lock is
# still ours: an invalidation deletes the lock, so a load that started before it stores nothing.
STORE_IF_LOCK_HELD = """
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
"""
# KEYS: lock key. ARGV: lock token. Deletes the lock only if it is still ours.
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class _Missing(Enum):
    """Nothing usable in Redis (as opposed to a cached `None`, "does not exist")."""

    MISSING = "missing"


MISSING = _Missing.MISSING


@dataclass(frozen=True, slots=True)
class CachePolicy:
    ttl_seconds: float
    negative_ttl_seconds: float
    jitter: float
    """The fraction each TTL is spread by: 0.15 stores 300 s as 255 to 345 s."""
    lock_ttl_seconds: float
    """How long one load may hold the lock; the others wait at most this long for it."""
    enabled: bool = True


def jittered_ms(seconds: float, jitter: float) -> int:
    """`seconds` spread uniformly by ±`jitter`, in milliseconds (never 0: every key expires)."""
    factor = random.uniform(1 - jitter, 1 + jitter)  # noqa: S311 - spreads expiries, no secret
    return max(1, round(seconds * factor * 1000))


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def batched_get(redis: Redis) -> TurnBatch[str, Any]:
    """`await get(key)`: the key's value (None: absent); the reads of one turn share an `MGET`."""
    return TurnBatch(redis.get, redis.mget)


class CacheAside(Generic[T]):
    """The cache of one kind of record, stored as JSON under `<namespace>:<id>` (per tenant
    with multi-tenancy: `scope` is the `scope_key()` extension point)."""

    def __init__(
        self,
        redis: Redis,
        *,
        namespace: str,
        model: type[T],
        policy: CachePolicy,
        stats: CacheStats,
        scope: Callable[[], str] = str,
    ) -> None:
        self._redis = redis
        self._get = batched_get(redis)
        self._namespace = namespace
        self._scope = scope
        self._model = model
        self._policy = policy
        self._stats = stats
        self._store_if_lock_held = redis.register_script(STORE_IF_LOCK_HELD)
        self._release_lock = redis.register_script(RELEASE_LOCK)
        self._loading: dict[str, asyncio.Future[T | None]] = {}
        self._last_failure_log = -FAILURE_LOG_INTERVAL_SECONDS
        self._redis_resting_until = 0.0

    @property
    def enabled(self) -> bool:
        return self._policy.enabled

    def key(self, record_id: str) -> str:
        """`<namespace>:<id>`, or `<namespace>:<scope>:<id>` while acting for a tenant (the
        `scope_key()` extension point): the same id never reaches another tenant's entry."""
        scope = self._scope()
        return (
            f"{self._namespace}:{scope}:{record_id}" if scope else f"{self._namespace}:{record_id}"
        )

    async def get_or_load(
        self, record_id: str, load: Callable[[], Awaitable[T | None]]
    ) -> T | None:
        """The record (None: it does not exist), from Redis if there, else from `load`."""
        if not self._policy.enabled:
            self._stats.bypassed += 1
            return await self._load(load)
        key = self.key(record_id)
        if time.monotonic() < self._redis_resting_until:
            self._stats.fallbacks += 1
            return await self._single_flight(key, load, use_redis=False)
        try:
            raw = take(key)  # read in the round trip of a check before this one (rate limiting)
            cached = self._decode(await self._get(key) if raw is NOT_READ else raw)
        except REDIS_FAILURES as error:
            self._redis_failed("read", error)
            self._stats.fallbacks += 1
            return await self._single_flight(key, load, use_redis=False)
        if cached is not MISSING:
            if cached is None:
                self._stats.negative_hits += 1
            else:
                self._stats.hits += 1
            return cached
        self._stats.misses += 1
        return await self._single_flight(key, load, use_redis=True)

    async def invalidate(self, record_id: str) -> None:
        """Forget the record; call it after the write's commit. Runs even when disabled, so
        instances that still cache (during a rolling change of CACHE_ENABLED) stay correct."""
        key = self.key(record_id)
        forget(key)
        try:
            await self._redis.delete(key, f"{key}:lock")
        except REDIS_FAILURES as error:
            self._stats.invalidation_failures += 1
            self._redis_failed("invalidation", error)
            return
        self._stats.invalidations += 1

    async def _single_flight(
        self, key: str, load: Callable[[], Awaitable[T | None]], *, use_redis: bool
    ) -> T | None:
        """Join the load of `key` already running in this process, or run it."""
        while (running := self._loading.get(key)) is not None:
            self._stats.coalesced += 1
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                if running.cancelled() and not _cancelling():
                    continue  # the request that was loading went away: load in its place
                raise
        future: asyncio.Future[T | None] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await (self._load_once(key, load) if use_redis else self._load(load))
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as error:
            future.set_exception(error)
            future.exception()  # the waiters get it; without waiters it is not "unretrieved"
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._loading[key]

    async def _load_once(self, key: str, load: Callable[[], Awaitable[T | None]]) -> T | None:
        """Load under the cross-process lock and store; or take the lock holder's value."""
        lock, token = f"{key}:lock", secrets.token_hex(8)
        lock_ms = round(self._policy.lock_ttl_seconds * 1000)
        try:
            locked = bool(await self._redis.set(lock, token, nx=True, px=lock_ms))
            # Another process may have stored the value between our read and the lock.
            cached = self._decode(await self._redis.get(key)) if locked else MISSING
        except REDIS_FAILURES as error:
            self._redis_failed("lock", error)
            self._stats.fallbacks += 1
            return await self._load(load)
        if not locked:
            self._stats.lock_waits += 1
            cached = await self._value_from_lock_holder(key, lock)
            # Found, or the holder failed or is slow: then load, and leave storing to it.
            return cached if cached is not MISSING else await self._load(load)
        if cached is not MISSING:
            await self._release(lock, token)
            return cached
        try:
            value = await self._load(load)
        except BaseException:
            await self._release(lock, token)
            raise
        await self._store(key, lock, token, value)
        return value

    async def _value_from_lock_holder(
        self, key: str, lock: str
    ) -> T | Literal[_Missing.MISSING] | None:
        deadline = time.monotonic() + self._policy.lock_ttl_seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(LOCK_POLL_SECONDS)
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    pipe.get(key)
                    pipe.exists(lock)
                    raw, still_locked = await pipe.execute()
            except REDIS_FAILURES as error:
                self._redis_failed("read", error)
                self._stats.fallbacks += 1
                return MISSING
            cached = self._decode(raw)
            if cached is not MISSING or not still_locked:
                return cached
        return MISSING

    async def _store(self, key: str, lock: str, token: str, value: T | None) -> None:
        if value is None:
            payload, ttl = NOT_FOUND, self._policy.negative_ttl_seconds
        else:
            payload, ttl = value.model_dump_json(), self._policy.ttl_seconds
        try:
            stored = await self._store_if_lock_held(
                keys=[key, lock], args=[token, payload, jittered_ms(ttl, self._policy.jitter)]
            )
        except REDIS_FAILURES as error:
            self._redis_failed("store", error)
            return
        if not stored:
            self._stats.discarded_stores += 1

    async def _release(self, lock: str, token: str) -> None:
        try:
            await self._release_lock(keys=[lock], args=[token])
        except REDIS_FAILURES as error:
            self._redis_failed("unlock", error)  # the lock expires by itself

    async def _load(self, load: Callable[[], Awaitable[T | None]]) -> T | None:
        self._stats.loads += 1
        return await load()

    def _decode(self, raw: str | bytes | None) -> T | Literal[_Missing.MISSING] | None:
        if raw is None:
            return MISSING
        if raw in _NOT_FOUND_VALUES:
            return None
        try:
            return self._model.model_validate_json(raw)
        except ValidationError:
            return MISSING  # written by another version of the model: load and overwrite

    def _redis_failed(self, operation: str, error: Exception) -> None:
        self._stats.redis_errors += 1
        now = time.monotonic()
        self._redis_resting_until = now + REDIS_RETRY_AFTER_SECONDS
        if now - self._last_failure_log >= FAILURE_LOG_INTERVAL_SECONDS:
            self._last_failure_log = now
            logger.warning(
                "cache %s failed (%s); serving from the database",
                operation,
                type(error).__name__,
                extra={"cache": self._namespace, "redis_errors": self._stats.redis_errors},
            )
