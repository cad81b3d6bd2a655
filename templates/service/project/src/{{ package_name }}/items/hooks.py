"""The items domain's extension points: how items are read, and what happens around writes.

Capabilities change how items are served through these, never by editing the endpoints:

- `read(app, item_id, load)` answers GET /items/{id}. The default calls `load()`, which reads
  the database; caching answers from Redis and calls `load()` only on a miss.
- `page(app, query, load)` answers GET /items. The default calls `load()`, which reads one
  page from the database; sharding reads every shard at once and merges their pages.
- `writing` hooks run inside a write's transaction, after the change is flushed and before the
  commit (an outbox event, a usage record): they commit with the change, or not at all.
- `changed` hooks run after the commit (cache invalidation, a deleted item leaving the trending
  feed). A failure there is the hook's to handle: the write has happened.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from .pagination import PageQuery
from .schemas import ItemPage, ItemRead

ItemLoad = Callable[[], Awaitable[ItemRead | None]]
PageLoad = Callable[[], Awaitable[ItemPage]]


@dataclass(frozen=True, slots=True)
class ItemChange:
    kind: Literal["created", "updated", "deleted"]
    item: ItemRead
    """The item as written; for a deletion, as it was."""


ItemReader = Callable[[FastAPI, uuid.UUID, ItemLoad], Awaitable[ItemRead | None]]
ItemPager = Callable[[FastAPI, PageQuery, PageLoad], Awaitable[ItemPage]]
ItemWriting = Callable[[AsyncSession, ItemChange], Awaitable[None]]
ItemChanged = Callable[[FastAPI, ItemChange], Awaitable[None]]


async def read_from_database(_: FastAPI, __: uuid.UUID, load: ItemLoad) -> ItemRead | None:
    return await load()


async def page_from_database(_: FastAPI, __: PageQuery, load: PageLoad) -> ItemPage:
    return await load()


@dataclass(slots=True)
class ItemHooks:
    read: ItemReader = read_from_database
    page: ItemPager = page_from_database
    writing: list[ItemWriting] = field(default_factory=list)
    changed: list[ItemChanged] = field(default_factory=list)

    async def committed(self, app: FastAPI, change: ItemChange) -> None:
        for hook in self.changed:
            await hook(app, change)
