import uuid

from pydantic import BaseModel


class TrendingItem(BaseModel):
    item_id: uuid.UUID
    views: int


class TrendingPage(BaseModel):
    """The most viewed items over the last `window_seconds`, most viewed first."""

    window_seconds: int
    items: list[TrendingItem]


class CacheStatsRead(BaseModel):
    """This process's counters since it started (see `stats.py` for what each one counts)."""

    enabled: bool
    hits: int
    negative_hits: int
    misses: int
    loads: int
    coalesced: int
    lock_waits: int
    fallbacks: int
    redis_errors: int
    discarded_stores: int
    invalidations: int
    invalidation_failures: int
    bypassed: int
