"""What the endpoints receive, resolved from the request: the item in the path (or a 404), the
item as GET /items/{id} answers it, the page GET /items answers, and the domain's extension
points (`hooks.py`).

`ItemView` reads through `ItemHooks.read` and `ItemPageView` through `ItemHooks.page`, so a
capability (caching, sharding) changes how items are read without touching the endpoints. Write
endpoints use `ValidItem`: they change the row as the database has it now.
"""

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..database import SessionDep, SessionmakerDep
from ..extensions import extensions_of
from . import service
from .exceptions import ItemNotFoundError
from .hooks import ItemHooks
from .models import Item
from .pagination import MAX_CURSOR_LENGTH, PageKey, PageQuery, decode_cursor, page_of
from .schemas import DEFAULT_PAGE_SIZE, MAX_OFFSET, MAX_PAGE_SIZE, ItemPage, ItemRead


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
    through sub-dependencies, each of which FastAPI would resolve on every request (and
    GET /items/{id} calls it rather than declaring it, for the same reason).
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


def _position(cursor: str | None) -> PageKey | None:
    if cursor is None:
        return None
    try:
        return decode_cursor(cursor)
    except ValueError as error:
        loc = ("query", "cursor")
        raise RequestValidationError(
            [{"type": "value_error", "loc": loc, "msg": str(error)}]
        ) from None


async def item_page(
    *,
    sessions: SessionmakerDep,
    hooks: ItemHooksDep,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)] = None,
) -> ItemPage:
    """The page GET /items answers: `limit` items after `cursor` (a `next_cursor`), or from the
    start; `offset` skips that many first."""
    query = PageQuery(limit=limit, offset=offset, after=_position(cursor))

    async def load() -> ItemPage:
        async with sessions() as session:
            items, total, more = await service.get_page(
                db_session=session, limit=query.limit, offset=query.offset, after=query.after
            )
            found = [ItemRead.model_validate(item) for item in items]
        return page_of(found, total, query, more=more)

    return await hooks.page(request.app, query, load)


ItemPageView = Annotated[ItemPage, Depends(item_page)]
