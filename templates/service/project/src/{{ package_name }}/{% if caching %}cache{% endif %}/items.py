"""The items domain, read through the cache: the cache's entries in the items extension points
(`items/hooks.py`).

- `read_through_cache`: GET /items/{id} reads `<prefix>:cache:v1:item:<id>`, else loads the row
  once (single flight) and stores it; a missing item is cached as "not found" for a short while.
- `item_to_read`: that key, named from the request's path (the `read_ahead` extension point),
  so that a check before the handler (rate limiting) can read it in its own round trip.
- `invalidate`: after every write's commit it deletes the key, so the next read loads the
  committed row; a deleted item also leaves the trending feed at once, rather than at the end
  of the window. Writes themselves always read the database (`ValidItem`).
"""

import logging
import re
import uuid

from fastapi import FastAPI
from starlette.types import Scope

from ..items.hooks import ItemChange, ItemLoad
from ..items.schemas import ItemRead
from .aside import REDIS_FAILURES
from .dependencies import caches_of

logger = logging.getLogger(__name__)

ITEM_READ = re.compile(r"/items/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


async def read_through_cache(app: FastAPI, item_id: uuid.UUID, load: ItemLoad) -> ItemRead | None:
    return await caches_of(app).items.get_or_load(str(item_id), load)


def item_to_read(scope: Scope) -> str | None:
    """The `read_ahead` extension point: the key `GET /items/{id}` reads first. Only an id
    written as `str(uuid)` writes it (the form the read's own key has): any other is left to
    the read, which then finds nothing read ahead for its key."""
    if scope["method"] != "GET":
        return None
    read = ITEM_READ.fullmatch(scope["path"])
    if read is None:
        return None
    items = caches_of(scope["app"]).items
    return items.key(read[1]) if items.enabled else None


async def invalidate(app: FastAPI, change: ItemChange) -> None:
    caches = caches_of(app)
    await caches.items.invalidate(str(change.item.id))
    if change.kind == "deleted":
        try:
            await caches.trending.forget(str(change.item.id))
        except REDIS_FAILURES as error:  # the delete has happened; the feed catches up by itself
            caches.stats.redis_errors += 1
            logger.warning("trending: deleted item not removed (%s)", type(error).__name__)
