"""GET /items across shards: every shard asked at once, the pages merged on the cursor's key.

Each shard returns its first `offset + limit + 1` items after the cursor, in the list's order
(created_at, then id). While resharding moves buckets, their rows exist on two shards for a
while: the map names the shard that may keep such strays, and its query leaves them out (no
filter at all when nothing is moving), so each row is read from one shard only. The
first `offset + limit + 1` of the merged rows are the global ones, so the page is exact; with
keyset pagination a walk sees every row that existed when it began exactly once, while rows are
inserted on any shard. With multi-tenancy the current tenant's shard alone is asked.

Failure policy: a list is all or nothing. A shard that fails, or does not answer within
SHARD_TIMEOUT_SECONDS, fails the list with a 503 naming it; a partial page would move the
client's cursor past that shard's rows, which it would then never see. A replica that fails
is left out and its shard asked again on the primary, within the same timeout.
"""

import asyncio
import heapq
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Select, func, not_, select, tuple_
from sqlalchemy.exc import DBAPIError

from ..items.hooks import PageLoad
from ..items.models import Item
from ..items.pagination import PageKey, PageQuery, page_of
from ..items.schemas import ItemPage, ItemRead
from .buckets import in_buckets
from .exceptions import ShardUnavailableError
from .routing import primaries_only, request_routing
from .runtime import ShardingRuntime, sharding_of

MAX_OFFSET = 10_000
"""Each shard returns offset + limit rows: past this, follow `next_cursor` instead (an offset
past every row is still answered, with an empty page, as on a single database)."""


@dataclass(frozen=True, slots=True)
class ShardPage:
    items: list[ItemRead]
    total: int


async def page_across_shards(app: FastAPI, query: PageQuery, _: PageLoad) -> ItemPage:
    """The `items.page` hook of a sharded service (the single-database `load` is not used)."""
    runtime = sharding_of(app)
    shard_map = runtime.shard_map()
    current = runtime.shard_key.current()
    asked = [shard_map.shard_of(current)] if current is not None else range(len(runtime.shards))
    beyond = query.offset > MAX_OFFSET  # only the counts: past them the page is empty
    wanted = 0 if beyond else query.offset + query.limit + 1
    holding = [shard for shard in asked if shard_map.buckets_of(shard)]

    async def read(shard: int) -> ShardPage:
        return await _read_shard(runtime, shard, shard_map.strays_on(shard), query, wanted)

    pages = await _gather(runtime, holding, read)
    if beyond:
        total = sum(p.total for p in pages)
        if query.offset < total:
            message = f"at most {MAX_OFFSET} across shards: follow next_cursor instead"
            raise RequestValidationError(
                [{"type": "less_than_equal", "loc": ("query", "offset"), "msg": message}]
            )
        return page_of([], total, query, more=False)
    merged = list(islice(heapq.merge(*(p.items for p in pages), key=PageKey.of), wanted))
    end = query.offset + query.limit
    return page_of(
        merged[query.offset : end], sum(p.total for p in pages), query, more=len(merged) > end
    )


async def _gather(
    runtime: ShardingRuntime, shards: list[int], read: Callable[[int], Awaitable[ShardPage]]
) -> list[ShardPage]:
    """Every shard's page, read concurrently, each within the timeout; the first failure
    cancels the others and fails the list."""
    timeout = runtime.settings.shard_timeout_seconds

    async def bounded(shard: int) -> ShardPage:
        try:
            async with asyncio.timeout(timeout):
                return await read(shard)
        except TimeoutError:
            runtime.stats.list_failures[shard] += 1
            raise ShardUnavailableError(shard, f"did not answer within {timeout:g} s") from None
        except (DBAPIError, OSError) as error:
            runtime.stats.list_failures[shard] += 1
            raise ShardUnavailableError(shard, f"failed ({type(error).__name__})") from error

    # Not a TaskGroup: on Python 3.11 one whose task fails while it waits for the others
    # leaves the calling task cancelling (`cancelling()` 1, never uncancelled), so whatever that
    # task awaits later under `asyncio.timeout`, or a stop that tells its own cancellation
    # from a process's (main._stop), takes the request's task for a cancelled one.
    tasks = [asyncio.create_task(bounded(shard)) for shard in shards]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _statements(
    runtime: ShardingRuntime, strays: list[int], query: PageQuery, wanted: int
) -> tuple[Select[Any], Select[Any]]:
    rows = select(Item).order_by(Item.created_at, Item.id).limit(wanted)
    count = select(func.count()).select_from(Item)
    if strays:
        column = Item.__table__.c[runtime.shard_key.columns[Item.__tablename__]]
        served = not_(in_buckets(column, strays))
        rows, count = rows.where(served), count.where(served)
    if query.after is not None:
        after = query.after
        rows = rows.where(tuple_(Item.created_at, Item.id) > (after.created_at, after.id))
    return rows, count


async def _read_shard(
    runtime: ShardingRuntime, shard: int, strays: list[int], query: PageQuery, wanted: int
) -> ShardPage:
    rows, count = _statements(runtime, strays, query, wanted)
    try:
        return await _query(runtime, shard, rows, count)
    except (DBAPIError, OSError):
        routing = request_routing.get()
        used = {u for u in routing.replicas_used if u[0] == shard} if routing else set()
        if not used:
            raise
        runtime.replica_failed(used, "failed a list read")
        runtime.stats.replica_fallbacks += 1
    token = primaries_only.set(True)  # this task's context only
    try:
        return await _query(runtime, shard, rows, count)
    finally:
        primaries_only.reset(token)


async def _query(
    runtime: ShardingRuntime, shard: int, rows: Select[Any], count: Select[Any]
) -> ShardPage:
    on_shard = {"shard_id": str(shard)}
    async with runtime.sessionmaker() as session:
        found = await session.scalars(rows, bind_arguments=on_shard)
        items = [ItemRead.model_validate(item) for item in found]
        total = await session.scalar(count, bind_arguments=on_shard)
    return ShardPage(items, total or 0)
