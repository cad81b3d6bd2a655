from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from ..database import SessionDep
from ..problems import PROBLEM_MEDIA_TYPE
from . import service
from .dependencies import ValidItem
from .schemas import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ItemCreate, ItemPage, ItemRead

router = APIRouter(prefix="/items", tags=["items"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    HTTPStatus.NOT_FOUND.value: {
        "description": "No item with this id",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    }
}


@router.post("", status_code=HTTPStatus.CREATED)
async def create_item(item_in: ItemCreate, session: SessionDep, response: Response) -> ItemRead:
    item = await service.create(db_session=session, item_in=item_in)
    response.headers["Location"] = f"{router.prefix}/{item.id}"
    return ItemRead.model_validate(item)


@router.get("")
async def list_items(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ItemPage:
    items, total = await service.get_page(db_session=session, limit=limit, offset=offset)
    return ItemPage(
        items=[ItemRead.model_validate(item) for item in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{item_id}", responses=NOT_FOUND)  # noqa: FAST003 - ValidItem reads item_id
async def get_item(item: ValidItem) -> ItemRead:
    return ItemRead.model_validate(item)
