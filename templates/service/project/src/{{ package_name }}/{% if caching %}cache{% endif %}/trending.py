"""A trending feed: views counted per time bucket in sorted sets, top K over the last window.

A view is `ZINCRBY <namespace>:<bucket> 1 <id>` on the current bucket (bucket = now // bucket
length), whose TTL is renewed to one window plus one bucket: a bucket lives exactly as long as
a window can include it, so Redis holds at most a window and a bucket of counts. The top K is a
`ZUNIONSTORE` of the window's buckets into a scratch key (with its own short TTL, in case the
request dies before deleting it), then `ZREVRANGE 0 K-1 WITHSCORES`; one MULTI/EXEC does both.

The clock is a parameter, so tests move time instead of waiting for it.
"""

import secrets
import time
from collections.abc import Callable

from redis.asyncio import Redis

# A scratch union normally lives for one round trip; this bounds it if the DEL never runs.
SCRATCH_TTL_SECONDS = 60


class TrendingFeed:
    def __init__(
        self,
        redis: Redis,
        *,
        namespace: str,
        bucket_seconds: int,
        window_buckets: int,
        clock: Callable[[], float] = time.time,
        scope: Callable[[], str] = str,
    ) -> None:
        self._redis = redis
        self._namespace = namespace
        self._scope = scope
        """The `scope_key()` extension point: with multi-tenancy, a feed per tenant."""
        self.bucket_seconds = bucket_seconds
        self.window_buckets = window_buckets
        self._clock = clock

    @property
    def window_seconds(self) -> int:
        return self.bucket_seconds * self.window_buckets

    def bucket_key(self, bucket: int) -> str:
        scope = self._scope()
        return f"{self._namespace}:{scope}:{bucket}" if scope else f"{self._namespace}:{bucket}"

    def current_bucket(self) -> int:
        return int(self._clock() // self.bucket_seconds)

    async def record(self, member: str, count: int = 1) -> None:
        """Count `count` events of `member` in the current bucket."""
        key = self.bucket_key(self.current_bucket())
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zincrby(key, count, member)
            pipe.expire(key, self.window_seconds + self.bucket_seconds)
            await pipe.execute()

    async def forget(self, member: str) -> None:
        """Drop `member` from every bucket of the window (a deleted item leaves the feed now)."""
        current = self.current_bucket()
        async with self._redis.pipeline(transaction=False) as pipe:
            for age in range(self.window_buckets):
                pipe.zrem(self.bucket_key(current - age), member)
            await pipe.execute()

    async def top(self, k: int) -> list[tuple[str, int]]:
        """The `k` members with the most events in the window, most first."""
        current = self.current_bucket()
        buckets = [self.bucket_key(current - age) for age in range(self.window_buckets)]
        scratch = f"{self._namespace}:union:{secrets.token_hex(8)}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zunionstore(scratch, buckets)
            pipe.expire(scratch, SCRATCH_TTL_SECONDS)
            pipe.zrevrange(scratch, 0, k - 1, withscores=True)
            pipe.delete(scratch)
            _, _, ranked, _ = await pipe.execute()
        return [(str(member), round(score)) for member, score in ranked]
