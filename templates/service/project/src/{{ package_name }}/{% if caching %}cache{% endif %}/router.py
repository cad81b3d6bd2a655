"""The caching capability's endpoints: record a view, read the trending feed, see the counters."""

import logging
import uuid
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..items.dependencies import ItemView
from ..problems import PROBLEM_MEDIA_TYPE
from ..security import permission
from .aside import REDIS_FAILURES
from .dependencies import CachesDep
from .exceptions import TrendingUnavailableError
from .schemas import CacheStatsRead, TrendingItem, TrendingPage

logger = logging.getLogger(__name__)
router = APIRouter(tags=["cache"])

MAX_TRENDING = 100
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    HTTPStatus.NOT_FOUND.value: {
        "description": "No item with this id",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    }
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    HTTPStatus.SERVICE_UNAVAILABLE.value: {
        "description": "Redis is unreachable",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    }
}


# Reads of items: the items' own permission (with multi-tenancy, a tenant's feed and items).
READ = [permission("items:read")]


@router.post(
    "/items/{item_id}/views",  # noqa: FAST003 - ItemView reads item_id
    status_code=HTTPStatus.NO_CONTENT,
    responses=NOT_FOUND,
    dependencies=READ,
)
async def record_view(item: ItemView, caches: CachesDep) -> None:
    """Count one view of the item in the trending feed. With Redis down the view is dropped
    (counted in `redis_errors`): losing a view is better than failing the client."""
    try:
        await caches.trending.record(str(item.id))
    except REDIS_FAILURES as error:
        caches.stats.redis_errors += 1
        logger.warning("trending: view not recorded (%s)", type(error).__name__)


@router.get("/trending", responses=UNAVAILABLE, dependencies=READ)
async def trending(
    caches: CachesDep, k: Annotated[int, Query(ge=1, le=MAX_TRENDING)] = 10
) -> TrendingPage:
    try:
        top = await caches.trending.top(k)
    except REDIS_FAILURES as error:
        caches.stats.redis_errors += 1
        raise TrendingUnavailableError from error
    return TrendingPage(
        window_seconds=caches.trending.window_seconds,
        items=[TrendingItem(item_id=uuid.UUID(member), views=views) for member, views in top],
    )


@router.get("/cache/stats")
async def cache_stats(caches: CachesDep) -> CacheStatsRead:
    return CacheStatsRead(enabled=caches.items.enabled, **caches.stats.as_dict())
