"""The items domain, read through the cache: the cache's entries in the items extension points
(`items/hooks.py`).

- `read_through_cache`: GET /items/{id} reads `<prefix>:cache:v1:item:<id>`, else loads the row
  once (single flight) and stores it; a missing item is cached as "not found" for a short while.
- `invalidate`: after every write's commit it deletes the key, so the next read loads the
  committed row. Writes themselves always read the database (`ValidItem`).
"""

import uuid

from fastapi import FastAPI

from ..items.hooks import ItemChange, ItemLoad
from ..items.schemas import ItemRead
from .dependencies import caches_of


async def read_through_cache(app: FastAPI, item_id: uuid.UUID, load: ItemLoad) -> ItemRead | None:
    return await caches_of(app).items.get_or_load(str(item_id), load)


async def invalidate(app: FastAPI, change: ItemChange) -> None:
    await caches_of(app).items.invalidate(str(change.item.id))
