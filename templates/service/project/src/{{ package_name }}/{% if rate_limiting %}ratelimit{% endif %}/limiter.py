"""The GCRA limiter: one EVALSHA of `gcra.lua` per request, against the shared Redis client
(the checks of concurrent requests share a round trip: see `batch.py`).

Failures of Redis (refused, timed out, any RedisError) become `RateLimitBackendError`, counted
and logged here; the middleware then applies the route's policy (fail open or closed). After a
failure the limiter does not ask Redis again for `BACKEND_COOLDOWN_SECONDS`, so a dead or
black-holed Redis costs requests no latency at all, not one timeout each.
"""

import asyncio
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..redis_client.client import redis_key
from .batch import PipelinedScript
from .config import RateLimitPolicy

logger = logging.getLogger(__name__)

GCRA_SCRIPT = Path(__file__).with_name("gcra.lua").read_text(encoding="utf-8")
BACKEND_COOLDOWN_SECONDS = 1.0
BACKEND_LOG_INTERVAL_SECONDS = 10.0
MICROSECONDS = 1_000_000

Outcome = Literal["allowed", "limited", "failed_open", "failed_closed"]
OUTCOMES: tuple[Outcome, ...] = ("allowed", "limited", "failed_open", "failed_closed")
NO_PLAN = "none"


class RateLimitBackendError(Exception):
    """Redis could not be asked; the request's policy decides whether it goes through."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one check, in the terms of the RateLimit header fields."""

    policy: str
    allowed: bool
    remaining: int
    retry_after_us: int
    next_unit_us: int
    read_ahead: str | None = None
    """Admitted with a `read_ahead` key: its value, read in the same round trip (None: none)."""

    @property
    def retry_after_seconds(self) -> int:
        """`Retry-After` as delay-seconds: whole seconds, at least 1, never early."""
        return max(1, math.ceil(self.retry_after_us / MICROSECONDS))

    @property
    def reset_seconds(self) -> int:
        """RateLimit `t`: seconds within which no more than `remaining` requests pass."""
        return math.ceil(self.next_unit_us / MICROSECONDS)


class LimiterSettings(Protocol):
    """What the limiter reads: its timeout (its own section) and the key prefix (Redis's)."""

    @property
    def rate_limit_timeout_seconds(self) -> float: ...
    @property
    def redis_key_prefix(self) -> str: ...


class RateLimiter:
    def __init__(self, redis: Redis, settings: LimiterSettings) -> None:
        self._script = PipelinedScript(redis, GCRA_SCRIPT)
        self._settings = settings
        self._timeout_seconds = settings.rate_limit_timeout_seconds
        self._skip_redis_until = 0.0
        self._last_logged = -math.inf
        self._unlogged_errors = 0
        self.backend_errors_total = 0
        """Checks that could not reach Redis; logged as `ratelimit_backend_errors_total`."""
        self.outcomes: Counter[tuple[str, str, Outcome]] = Counter()
        """Requests checked, by (policy, plan, outcome): `ratelimit_decisions_total`."""

    def count(self, policy_name: str, outcome: Outcome, plan: str | None) -> None:
        """Count what happened to one request; `plan` is the caller's billing plan, if any
        (a handful of values, unlike the caller's identity, so it may label a metric)."""
        self.outcomes[(policy_name, plan or NO_PLAN, outcome)] += 1

    def key(self, policy_name: str, identity: str, scope: str = "") -> str:
        """`{REDIS_KEY_PREFIX}:rl:{policy}:{identity}`, with the `scope_key()` extension point
        before the identity when it has one (`tenant:<id>`: one caller acting for two tenants
        has a bucket in each); the script gives it a TTL."""
        if scope:
            return redis_key(self._settings, "rl", policy_name, scope, identity)
        return redis_key(self._settings, "rl", policy_name, identity)

    async def acquire(
        self,
        policy_name: str,
        policy: RateLimitPolicy,
        identity: str,
        scope: str = "",
        read_ahead: str | None = None,
    ) -> Decision:
        """Count one request of `identity` against `policy`, atomically, in one round trip;
        admitted, the value of the `read_ahead` key comes back in the same trip."""
        if time.monotonic() < self._skip_redis_until:
            self._record_backend_error(None)
            raise RateLimitBackendError("Redis failed recently; not asking it again yet")
        try:
            async with asyncio.timeout(self._timeout_seconds):
                bucket = self.key(policy_name, identity, scope)
                keys = (bucket, read_ahead) if read_ahead else (bucket,)
                reply = await self._script((keys, (policy.emission_interval_us, policy.capacity)))
        except (RedisError, OSError, TimeoutError) as error:
            self._skip_redis_until = time.monotonic() + BACKEND_COOLDOWN_SECONDS
            self._record_backend_error(error)
            raise RateLimitBackendError(str(error)) from error
        allowed, remaining, retry_after_us, next_unit_us, *read = reply
        return Decision(
            policy=policy_name,
            allowed=bool(allowed),
            remaining=int(remaining),
            retry_after_us=int(retry_after_us),
            next_unit_us=int(next_unit_us),
            read_ahead=read[0] if read else None,
        )

    def _record_backend_error(self, error: BaseException | None) -> None:
        """Count every failure; log the first, then one summary line per interval."""
        self.backend_errors_total += 1
        self._unlogged_errors += 1
        now = time.monotonic()
        if now - self._last_logged < BACKEND_LOG_INTERVAL_SECONDS:
            return
        logger.warning(
            "rate limiter cannot reach Redis: %d checks failed since the last report",
            self._unlogged_errors,
            extra={
                "ratelimit_backend_errors_total": self.backend_errors_total,
                "error": type(error).__name__ if error else "cooling down",
            },
        )
        self._last_logged = now
        self._unlogged_errors = 0
