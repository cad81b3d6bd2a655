"""Item use cases as plain async functions taking the session: callable from routers, workers
and tests alike, with no HTTP in sight.

Writes take the `writing` hooks of `hooks.py` and run them inside their transaction, after the
flush (so the row has its id and `created_at`) and before the commit.
"""

import uuid
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from .hooks import ItemChange, ItemWriting
from .models import Item
from .pagination import PageKey
from .schemas import ItemCreate, ItemRead, ItemUpdate


async def create(
    *, db_session: AsyncSession, item_in: ItemCreate, writing: Sequence[ItemWriting] = ()
) -> Item:
    # The id exists before the flush: a sharded session places the row by it.
    item = Item(id=uuid.uuid4(), **item_in.model_dump())
    db_session.add(item)
    await db_session.flush()  # the insert returns the database-generated created_at
    await _run(writing, db_session, "created", item)
    await db_session.commit()
    return item


async def get(*, db_session: AsyncSession, item_id: uuid.UUID) -> Item | None:
    return await db_session.get(Item, item_id)


async def update(
    *,
    db_session: AsyncSession,
    item: Item,
    item_in: ItemUpdate,
    writing: Sequence[ItemWriting] = (),
) -> Item:
    for field, value in item_in.model_dump(exclude_unset=True).items():
        setattr(item, field, value)
    await db_session.flush()
    await _run(writing, db_session, "updated", item)
    await db_session.commit()
    return item


async def delete(
    *, db_session: AsyncSession, item: Item, writing: Sequence[ItemWriting] = ()
) -> None:
    await _run(writing, db_session, "deleted", item)
    await db_session.delete(item)
    await db_session.commit()


async def get_page(
    *, db_session: AsyncSession, limit: int, offset: int, after: PageKey | None = None
) -> tuple[list[Item], int, bool]:
    """A page of items, oldest first (ties broken by id so pages never overlap), after the
    position `after` when given; the total; and whether more items follow the page."""
    query = select(Item).order_by(Item.created_at, Item.id)
    if after is not None:
        query = query.where(tuple_(Item.created_at, Item.id) > (after.created_at, after.id))
    rows = list(await db_session.scalars(query.limit(limit + 1).offset(offset)))
    total = await db_session.scalar(select(func.count()).select_from(Item))
    return rows[:limit], total or 0, len(rows) > limit


async def _run(
    writing: Sequence[ItemWriting],
    db_session: AsyncSession,
    kind: Literal["created", "updated", "deleted"],
    item: Item,
) -> None:
    if not writing:
        return
    change = ItemChange(kind, ItemRead.model_validate(item))
    for hook in writing:
        await hook(db_session, change)
