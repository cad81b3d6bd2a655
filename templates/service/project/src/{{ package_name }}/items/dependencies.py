"""What the endpoints receive, resolved from the request: the item in the path (or a 404), the
item as GET /items/{id} answers it, and the domain's extension points (`hooks.py`).

`ItemView` reads through `ItemHooks.read`, so a capability (caching) changes how one item is
read without touching the endpoints. Write endpoints use `ValidItem`: they change the row as the
database has it now.
"""

import uuid
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..database import SessionDep
from ..extensions import extensions_of
from . import service
from .exceptions import ItemNotFoundError
from .hooks import ItemHooks
from .models import Item
from .schemas import ItemRead


async def valid_item(item_id: uuid.UUID, session: SessionDep) -> Item:
    """The item named in the path, or a 404 problem: endpoints receive only items that exist."""
    item = await service.get(db_session=session, item_id=item_id)
    if item is None:
        raise ItemNotFoundError(item_id)
    return item


ValidItem = Annotated[Item, Depends(valid_item)]


async def item_hooks(request: Request) -> ItemHooks:
    return extensions_of(request).items


ItemHooksDep = Annotated[ItemHooks, Depends(item_hooks)]


async def item_view(item_id: uuid.UUID, request: Request) -> ItemRead:
    """The item as GET /items/{id} answers it, or a 404 problem.

    The hottest read of the service: it takes what it needs from the request itself rather than
    through sub-dependencies, each of which FastAPI would resolve on every request.
    """
    app = request.app

    async def load() -> ItemRead | None:  # a session only when it is needed
        sessions: async_sessionmaker[AsyncSession] = app.state.sessionmaker
        async with sessions() as session:
            item = await service.get(db_session=session, item_id=item_id)
            return None if item is None else ItemRead.model_validate(item)

    item = await extensions_of(request).items.read(app, item_id, load)
    if item is None:
        raise ItemNotFoundError(item_id)
    return item


ItemView = Annotated[ItemRead, Depends(item_view)]
