"""The items domain, read through the cache: `items/router.py` imports these two instead of
the plain ones in `items/dependencies.py` (same names, same types).

- `ItemView`: GET /items/{id} reads `<prefix>:cache:v1:item:<id>`, else loads the row once
  (single flight) and stores it; a missing item is cached as "not found" for a short while.
- `OnItemChanged`: every write endpoint calls it after its commit; it deletes the key, so the
  next read loads the committed row. Writes themselves always read the database (`ValidItem`).
"""

import uuid
from typing import Annotated

from fastapi import Depends

from ..database import SessionmakerDep
from ..items import service
from ..items.dependencies import ItemChangeHook
from ..items.exceptions import ItemNotFoundError
from ..items.schemas import ItemRead
from .dependencies import CachesDep


async def item_view(item_id: uuid.UUID, sessions: SessionmakerDep, caches: CachesDep) -> ItemRead:
    async def load() -> ItemRead | None:  # a session only on a miss: a hit touches no database
        async with sessions() as session:
            item = await service.get(db_session=session, item_id=item_id)
            return None if item is None else ItemRead.model_validate(item)

    item = await caches.items.get_or_load(str(item_id), load)
    if item is None:
        raise ItemNotFoundError(item_id)
    return item


ItemView = Annotated[ItemRead, Depends(item_view)]


async def item_change_hook(caches: CachesDep) -> ItemChangeHook:
    async def invalidate(item_id: uuid.UUID) -> None:
        await caches.items.invalidate(str(item_id))

    return invalidate


OnItemChanged = Annotated[ItemChangeHook, Depends(item_change_hook)]
