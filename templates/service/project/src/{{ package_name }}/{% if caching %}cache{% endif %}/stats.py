"""Counters of what the cache did in this process, served by GET /cache/stats.

They are per process (each worker counts its own) and reset on restart; `metrics.py` describes
them as metric families, which `observability` exports to Prometheus. Plain integers are
enough: the event loop runs one coroutine at a time.
"""

from dataclasses import asdict, dataclass


@dataclass(slots=True)
class CacheStats:
    hits: int = 0
    """Reads answered from Redis with a value."""
    negative_hits: int = 0
    """Reads answered from Redis with a cached "does not exist"."""
    misses: int = 0
    """Reads that found nothing in Redis."""
    loads: int = 0
    """Database loads (misses that were not coalesced, and fallbacks)."""
    coalesced: int = 0
    """Reads that waited for a load already running in this process."""
    lock_waits: int = 0
    """Misses that found another process loading the same key, and waited for its result."""
    fallbacks: int = 0
    """Reads served from the database because Redis failed or timed out."""
    redis_errors: int = 0
    """Redis commands that failed or timed out (reads, stores, invalidations, trending)."""
    discarded_stores: int = 0
    """Loaded values not stored because a write invalidated the key while they were loading."""
    invalidations: int = 0
    invalidation_failures: int = 0
    """Invalidations that could not reach Redis: the old value lives until its TTL."""
    bypassed: int = 0
    """Reads that skipped the cache because CACHE_ENABLED is false."""

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
