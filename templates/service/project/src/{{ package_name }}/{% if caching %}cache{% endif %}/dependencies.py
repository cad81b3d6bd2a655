"""The caching capability's objects, built once per app in the lifespan (`capability.py`), kept
on `app.state.caches`, and handed to endpoints as dependencies."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Protocol, cast

from fastapi import Depends, FastAPI, Request
from redis.asyncio import Redis

from ..items.schemas import ItemRead
from ..redis_client.client import redis_key
from .aside import CacheAside, CachePolicy
from .stats import CacheStats
from .trending import TrendingFeed

# Part of every key: bump it when the cached shape (ItemRead) changes, and the new code never
# reads what the old code wrote (the old keys simply expire).
ITEM_KEY_VERSION = "v1"
TRENDING_KEY_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class Caches:
    stats: CacheStats
    items: CacheAside[ItemRead]
    trending: TrendingFeed


class CacheSettings(Protocol):
    """What the caches read: their section's fields and the key prefix (Redis's section)."""

    @property
    def cache_enabled(self) -> bool: ...
    @property
    def cache_ttl_seconds(self) -> float: ...
    @property
    def cache_negative_ttl_seconds(self) -> float: ...
    @property
    def cache_ttl_jitter(self) -> float: ...
    @property
    def cache_lock_ttl_seconds(self) -> float: ...
    @property
    def trending_bucket_seconds(self) -> int: ...
    @property
    def trending_window_buckets(self) -> int: ...
    @property
    def redis_key_prefix(self) -> str: ...


def build_caches(redis: Redis, settings: CacheSettings, scope: Callable[[], str] = str) -> Caches:
    """`scope`: the `scope_key()` extension point, which keeps tenants' entries apart."""
    stats = CacheStats()
    policy = CachePolicy(
        enabled=settings.cache_enabled,
        ttl_seconds=settings.cache_ttl_seconds,
        negative_ttl_seconds=settings.cache_negative_ttl_seconds,
        jitter=settings.cache_ttl_jitter,
        lock_ttl_seconds=settings.cache_lock_ttl_seconds,
    )
    return Caches(
        stats=stats,
        items=CacheAside(
            redis,
            namespace=redis_key(settings, "cache", ITEM_KEY_VERSION, "item"),
            model=ItemRead,
            policy=policy,
            stats=stats,
            scope=scope,
        ),
        trending=TrendingFeed(
            redis,
            namespace=redis_key(settings, "trending", TRENDING_KEY_VERSION, "items"),
            bucket_seconds=settings.trending_bucket_seconds,
            window_buckets=settings.trending_window_buckets,
            scope=scope,
        ),
    )


def caches_of(app: FastAPI) -> Caches:
    return cast(Caches, app.state.caches)


async def get_caches(request: Request) -> Caches:  # async: FastAPI runs sync ones in threads
    return caches_of(request.app)


CachesDep = Annotated[Caches, Depends(get_caches)]
