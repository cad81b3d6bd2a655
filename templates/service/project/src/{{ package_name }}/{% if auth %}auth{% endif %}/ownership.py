"""Items record their creator: the items domain's `writing` hook, and a read of the record.

The hook runs inside the item's transaction (after the insert, before the commit), so an item
and its owner row are committed together or not at all. The creator is the verified caller of
the request (`current_principal()`), never anything the client wrote in the body.
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ..items.hooks import ItemChange
from .models import ItemOwner
from .principal import current_principal


async def record_creator(session: AsyncSession, change: ItemChange) -> None:
    principal = current_principal()
    if change.kind != "created" or principal is None:
        return
    session.add(
        ItemOwner(item_id=change.item.id, subject=principal.subject, client_id=principal.client_id)
    )


async def owner_of(session: AsyncSession, item_id: uuid.UUID) -> ItemOwner | None:
    return await session.get(ItemOwner, item_id)
