"""The calls one turn of the event loop makes, sent to Redis together.

A Redis round trip through redis-py costs far more CPU (a pooled connection, a send and a
receive, their system calls) than Redis's own work, and under load many requests reach the
same command in one loop turn: the cache's reads (one `MGET`, `cache/aside.py`) and the rate
limiter's checks (one pipeline of `EVALSHA`, `ratelimit/batch.py`) share their trip. The first
call of a turn yields once, and the calls made meanwhile join it. Alone (most calls, but under
load), it runs `one` itself: no future, no task. With others, `many` answers them all in the
order asked, in a task of its own, so that no one caller's cancellation (its deadline) fails
the others' calls.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")


class TurnBatch(Generic[Request, Result]):
    """`await batch(request)`: its result, from `one(request)` alone or from `many(requests)`
    with the concurrent calls (which returns a result, or an exception, per request)."""

    def __init__(
        self,
        one: Callable[[Request], Awaitable[Result]],
        many: Callable[[list[Request]], Awaitable[Sequence[Result | Exception]]],
    ) -> None:
        self._one = one
        self._many = many
        self._joining: list[tuple[Request, asyncio.Future[Result]]] | None = None
        """The calls joining this turn's first call, while it waits for the turn to end."""
        self._running: set[asyncio.Task[None]] = set()

    async def __call__(self, request: Request) -> Result:
        joining = self._joining
        if joining is not None:  # another call of this turn sends the batch: join it
            future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
            joining.append((request, future))
            return await future
        # The first call of this turn lets the turn end, so the calls made in it can join.
        joined: list[tuple[Request, asyncio.Future[Result]]] = []
        self._joining = joined
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            self._joining = None
            if joined:  # the others still go
                self._send(joined)
            raise
        self._joining = None
        if not joined:
            return await self._one(request)
        own: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._send([(request, own), *joined])
        return await own

    def _send(self, batch: list[tuple[Request, asyncio.Future[Result]]]) -> None:
        task = asyncio.ensure_future(self._run(batch))
        self._running.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[Request, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._many([request for request, _ in batch])
        except Exception as error:  # noqa: BLE001 - each caller of the batch raises it
            for _, future in batch:
                if not future.done():  # a caller that gave up has cancelled its future
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
