"""What the endpoints receive, resolved from the request: the item in the path, or a 404.

Two seams here are where a capability changes how items are served, without touching the
endpoints: `ItemView` (how GET /items/{id} reads an item) and `OnItemChanged` (what happens
after a write has committed). The caching capability provides its own versions of both in
`cache/items.py`, and the router imports those instead.
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from ..database import SessionDep
from . import service
from .exceptions import ItemNotFoundError
from .models import Item
from .schemas import ItemRead

ItemChangeHook = Callable[[uuid.UUID], Awaitable[None]]


async def valid_item(item_id: uuid.UUID, session: SessionDep) -> Item:
    """The item named in the path, or a 404 problem: endpoints receive only items that exist.

    Write endpoints use this one: they change the row as the database has it now.
    """
    item = await service.get(db_session=session, item_id=item_id)
    if item is None:
        raise ItemNotFoundError(item_id)
    return item


ValidItem = Annotated[Item, Depends(valid_item)]


async def item_view(item: ValidItem) -> ItemRead:
    """The item as GET /items/{id} answers it: here, straight from the database."""
    return ItemRead.model_validate(item)


ItemView = Annotated[ItemRead, Depends(item_view)]


async def _nothing_to_refresh(item_id: uuid.UUID) -> None:
    return None


async def item_change_hook() -> ItemChangeHook:
    """Called by every write endpoint after its commit; the base service keeps no copies."""
    return _nothing_to_refresh


OnItemChanged = Annotated[ItemChangeHook, Depends(item_change_hook)]
