"""The cache's counters (`stats.py`) as metric families of the capability protocol.

Read when metrics are scraped (with `observability`, as `<service>_cache_...`); nothing is
paid per read for them. The hit ratio is `result=~"hit|negative_hit"` over all of
`cache_requests_total`; reads that never asked Redis are counted apart (bypassed, fallbacks).
"""

from collections.abc import Iterable

from fastapi import FastAPI

from ..capability import Metric, Sample
from .dependencies import caches_of


def counter(name: str, help_text: str, value: int) -> Metric:
    return Metric(name, "counter", help_text, (Sample({}, value),))


def cache_metrics(app: FastAPI) -> Iterable[Metric]:
    stats = caches_of(app).stats
    yield Metric(
        "cache_requests_total",
        "counter",
        "Cache reads answered by Redis: a value, a cached absence, or nothing.",
        (
            Sample({"result": "hit"}, stats.hits),
            Sample({"result": "negative_hit"}, stats.negative_hits),
            Sample({"result": "miss"}, stats.misses),
        ),
    )
    yield counter("cache_bypassed_total", "Reads with the cache disabled.", stats.bypassed)
    yield counter(
        "cache_fallbacks_total",
        "Reads served from the database because Redis failed or timed out.",
        stats.fallbacks,
    )
    yield counter("cache_loads_total", "Loads from the database after a miss.", stats.loads)
    yield counter(
        "cache_coalesced_total",
        "Reads that joined a load already running in this process.",
        stats.coalesced,
    )
    yield counter(
        "cache_lock_waits_total",
        "Misses that waited for another process's load of the same key.",
        stats.lock_waits,
    )
    yield counter(
        "cache_redis_errors_total",
        "Redis commands of the cache that failed or timed out.",
        stats.redis_errors,
    )
    yield counter(
        "cache_discarded_stores_total",
        "Loaded values not stored because a write invalidated the key meanwhile.",
        stats.discarded_stores,
    )
    yield Metric(
        "cache_invalidations_total",
        "counter",
        "Invalidations after writes; a failed one leaves the old value until its TTL.",
        (
            Sample({"result": "ok"}, stats.invalidations),
            Sample({"result": "failed"}, stats.invalidation_failures),
        ),
    )
