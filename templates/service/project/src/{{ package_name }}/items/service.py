"""Item use cases as plain async functions taking the session: callable from routers, workers
and tests alike, with no HTTP in sight."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Item
from .schemas import ItemCreate, ItemUpdate


async def create(*, db_session: AsyncSession, item_in: ItemCreate) -> Item:
    item = Item(**item_in.model_dump())
    db_session.add(item)
    await db_session.commit()
    await db_session.refresh(item)  # loads the database-generated created_at
    return item


async def get(*, db_session: AsyncSession, item_id: uuid.UUID) -> Item | None:
    return await db_session.get(Item, item_id)


async def update(*, db_session: AsyncSession, item: Item, item_in: ItemUpdate) -> Item:
    for field, value in item_in.model_dump(exclude_unset=True).items():
        setattr(item, field, value)
    await db_session.commit()
    return item


async def delete(*, db_session: AsyncSession, item: Item) -> None:
    await db_session.delete(item)
    await db_session.commit()


async def get_page(*, db_session: AsyncSession, limit: int, offset: int) -> tuple[list[Item], int]:
    """A page of items, oldest first (ties broken by id so pages never overlap), and the total."""
    page = await db_session.scalars(
        select(Item).order_by(Item.created_at, Item.id).limit(limit).offset(offset)
    )
    total = await db_session.scalar(select(func.count()).select_from(Item))
    return list(page), total or 0
