"""The items endpoints. Writes go to the database, running the domain's `writing` hooks inside
their transaction and its `changed` hooks after the commit; reads of one item go through
`item_view` and lists through `ItemPageView`. Every endpoint names the permission it needs; who
may use it is decided by the `authorize` extension point (everyone, until an authentication
capability says otherwise)."""

import uuid
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, Request, Response

from ..database import SessionDep
from ..problems import PROBLEM_MEDIA_TYPE
from ..security import permission
from . import service
from .dependencies import ItemHooksDep, ItemPageView, ValidItem, item_view
from .hooks import ItemChange
from .schemas import ItemCreate, ItemPage, ItemRead, ItemUpdate

router = APIRouter(prefix="/items", tags=["items"])

READ = [permission("items:read")]
WRITE = [permission("items:write")]
DELETE = [permission("items:delete")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    HTTPStatus.NOT_FOUND.value: {
        "description": "No item with this id",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    }
}


@router.get("/{item_id}", responses=NOT_FOUND, dependencies=READ)
async def get_item(item_id: uuid.UUID, request: Request) -> ItemRead:
    # The hottest read, declared first: FastAPI tries the router's routes in order, twice per
    # request (to match, then to handle), so each route before it is two more path matches.
    # A literal path added to this router (`/items/export`) goes above it: `{item_id}` matches
    # any one segment, and the id's validation would answer 422.
    # `item_view` called, not declared as a dependency, spares FastAPI resolving one more
    # dependant on every request.
    return await item_view(item_id, request)


@router.post("", status_code=HTTPStatus.CREATED, dependencies=WRITE)
async def create_item(
    item_in: ItemCreate,
    session: SessionDep,
    hooks: ItemHooksDep,
    request: Request,
    response: Response,
) -> ItemRead:
    item = await service.create(db_session=session, item_in=item_in, writing=hooks.writing)
    created = ItemRead.model_validate(item)
    await hooks.committed(request.app, ItemChange("created", created))
    response.headers["Location"] = f"{router.prefix}/{item.id}"
    return created


@router.get("", dependencies=READ)
async def list_items(page: ItemPageView) -> ItemPage:
    """Items oldest first: follow `next_cursor` (as `cursor`) to the end, or page by `offset`."""
    return page


@router.patch("/{item_id}", responses=NOT_FOUND, dependencies=WRITE)  # noqa: FAST003 - ValidItem reads item_id
async def update_item(
    item: ValidItem,
    item_in: ItemUpdate,
    session: SessionDep,
    hooks: ItemHooksDep,
    request: Request,
) -> ItemRead:
    item = await service.update(
        db_session=session, item=item, item_in=item_in, writing=hooks.writing
    )
    updated = ItemRead.model_validate(item)
    await hooks.committed(request.app, ItemChange("updated", updated))
    return updated


@router.delete(
    "/{item_id}",  # noqa: FAST003 - ValidItem reads item_id
    status_code=HTTPStatus.NO_CONTENT,
    responses=NOT_FOUND,
    dependencies=DELETE,
)
async def delete_item(
    item: ValidItem, session: SessionDep, hooks: ItemHooksDep, request: Request
) -> None:
    deleted = ItemRead.model_validate(item)
    await service.delete(db_session=session, item=item, writing=hooks.writing)
    await hooks.committed(request.app, ItemChange("deleted", deleted))
