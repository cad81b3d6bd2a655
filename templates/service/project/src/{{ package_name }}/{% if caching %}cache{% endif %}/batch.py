"""One `MGET` for the cached reads of one turn of the event loop.

Under load many requests reach their cached read in the same loop turn, and each `GET` through
redis-py costs far more CPU (a pooled connection, a send and a receive, their system calls)
than Redis's own work; the rate limiter's check already shares its round trip the same way
(`ratelimit/batch.py`), and with it the cache's read rides along (`redis_client/read_ahead.py`),
so without it the cached read alone paid a round trip per request that the fuller stack did
not. Each key still gets its own value: `MGET` answers the keys in the order asked. A lone read
sends its own `GET` from its caller, with no future or task around it; a batch runs in a task of
its own, so no one caller's cancellation fails the others' reads.
"""

import asyncio
from typing import Any

from redis.asyncio import Redis

Read = tuple[str, "asyncio.Future[Any]"]


class BatchedGet:
    """`await get(key)`: the key's value (None: absent), read with the concurrent reads."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._joining: list[Read] | None = None
        """The reads joining this turn's first read, while it waits for the turn to end."""
        self._running: set[asyncio.Task[None]] = set()

    async def __call__(self, key: str) -> Any:
        joining = self._joining
        if joining is not None:  # another read of this turn sends the batch: join it
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            joining.append((key, future))
            return await future
        # The first read of this turn lets the turn end, so the reads made in it can join.
        joined: list[Read] = []
        self._joining = joined
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            self._joining = None
            if joined:  # the others still go
                self._send(joined)
            raise
        self._joining = None
        if not joined:  # alone (most reads but under load): no future, no task
            return await self._redis.get(key)
        own: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._send([(key, own), *joined])
        return await own

    def _send(self, batch: list[Read]) -> None:
        # A task of its own: a caller that gives up leaves the others' batch be.
        task = asyncio.ensure_future(self._run(batch))
        self._running.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[Read]) -> None:
        try:
            if len(batch) == 1:
                values = [await self._redis.get(batch[0][0])]
            else:
                values = await self._redis.mget([key for key, _ in batch])
        except Exception as error:  # noqa: BLE001 - each reader of the batch raises it
            for _, future in batch:
                if not future.done():  # a reader that gave up has cancelled its future
                    future.set_exception(error)
            return
        for (_, future), value in zip(batch, values, strict=True):
            if not future.done():
                future.set_result(value)
