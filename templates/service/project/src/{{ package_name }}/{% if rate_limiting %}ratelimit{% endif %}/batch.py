"""One Lua script for many concurrent callers: the calls made in one turn of the event loop
share one pipelined round trip to Redis.

A Redis round trip through redis-py costs far more CPU (a pooled connection, a send and a
receive, their system calls) than the script itself; under load, many requests reach the
limiter in the same loop turn. Each call is still its own EVALSHA, which Redis runs atomically
in the order sent, so batching changes no count and no answer: it only shares the trip. A
lone call goes straight to Redis from its caller, with no pipeline, future or task around it
(a caller that gives up then cancels its own command, which redis-py answers by dropping that
connection); a batch runs in a task of its own, which no one caller's deadline cancels.
"""

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

Call = tuple[Sequence[str], Sequence[int], "asyncio.Future[list[Any]]"]


class PipelinedScript:
    """`await script(keys, args)`: run the script on its keys, batched with concurrent calls."""

    def __init__(self, redis: Redis, source: str) -> None:
        self._redis = redis
        self._source = source
        self._sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        self._joining: list[Call] | None = None
        """The calls joining this turn's first call, while it waits for the turn to end."""
        self._running: set[asyncio.Task[None]] = set()

    async def __call__(self, keys: Sequence[str], args: Sequence[int]) -> list[Any]:
        joining = self._joining
        if joining is not None:  # another call of this turn sends the batch: join it
            future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
            joining.append((keys, args, future))
            return await future
        # The first call of this turn lets the turn end, so the calls made in it can join.
        joined: list[Call] = []
        self._joining = joined
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            self._joining = None
            if joined:  # the others still go
                self._send(joined)
            raise
        self._joining = None
        if not joined:  # alone (most calls but under load): no future, no task, no pipeline
            return await self._one(keys, args)
        own: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._send([(keys, args, own), *joined])
        return await own

    def _send(self, batch: list[Call]) -> None:
        # A task of its own: a caller that gives up (its deadline) leaves the others' batch be.
        task = asyncio.ensure_future(self._run(batch))
        self._running.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[Call]) -> None:
        try:
            results = await self._execute([(keys, args) for keys, args, _ in batch])
        except Exception as error:  # noqa: BLE001 - each caller of the batch raises it
            for *_, future in batch:
                if not future.done():  # a caller that timed out has cancelled its future
                    future.set_exception(error)
            return
        for (*_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(cast(list[Any], result))

    async def _execute(self, calls: list[tuple[Sequence[str], Sequence[int]]]) -> list[Any]:
        if len(calls) == 1:
            return [await self._one(*calls[0])]
        async with self._redis.pipeline(transaction=False) as pipe:
            for keys, args in calls:
                pipe.evalsha(self._sha, len(keys), *keys, *args)
            results: list[object] = await pipe.execute(raise_on_error=False)
        unknown = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
        if unknown:  # a restarted or new Redis: those calls did not run; load, run them now
            await self._redis.script_load(self._source)
            for i in unknown:
                results[i] = await self._one(*calls[i])
        return results

    async def _one(self, keys: Sequence[str], args: Sequence[int]) -> list[Any]:
        try:
            result = await self._redis.evalsha(self._sha, len(keys), *keys, *args)
        except NoScriptError:
            await self._redis.script_load(self._source)
            result = await self._redis.evalsha(self._sha, len(keys), *keys, *args)
        return list(result)
