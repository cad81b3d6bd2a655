"""The items domain, read through the cache: the cache's entries in the items extension points
(`items/hooks.py`).

- `read_through_cache`: GET /items/{id} reads `<prefix>:cache:v1:item:<id>`, else loads the row
  once (single flight) and stores it; a missing item is cached as "not found" for a short while.
- `invalidate`: after every write's commit it deletes the key, so the next read loads the
  committed row; a deleted item also leaves the trending feed at once, rather than at the end
  of the window. Writes themselves always read the database (`ValidItem`).
"""

import logging
import uuid

from fastapi import FastAPI

from ..items.hooks import ItemChange, ItemLoad
from ..items.schemas import ItemRead
from .aside import REDIS_FAILURES
from .dependencies import caches_of

logger = logging.getLogger(__name__)


async def read_through_cache(app: FastAPI, item_id: uuid.UUID, load: ItemLoad) -> ItemRead | None:
    return await caches_of(app).items.get_or_load(str(item_id), load)


async def invalidate(app: FastAPI, change: ItemChange) -> None:
    caches = caches_of(app)
    await caches.items.invalidate(str(change.item.id))
    if change.kind == "deleted":
        try:
            await caches.trending.forget(str(change.item.id))
        except REDIS_FAILURES as error:  # the delete has happened; the feed catches up by itself
            caches.stats.redis_errors += 1
            logger.warning("trending: deleted item not removed (%s)", type(error).__name__)
