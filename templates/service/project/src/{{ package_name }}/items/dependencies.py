import uuid
from typing import Annotated

from fastapi import Depends

from ..database import SessionDep
from . import service
from .exceptions import ItemNotFoundError
from .models import Item


async def valid_item(item_id: uuid.UUID, session: SessionDep) -> Item:
    """The item named in the path, or a 404 problem: endpoints receive only items that exist."""
    item = await service.get(db_session=session, item_id=item_id)
    if item is None:
        raise ItemNotFoundError(item_id)
    return item


ValidItem = Annotated[Item, Depends(valid_item)]
