"""One Lua script for many concurrent callers: the calls made in one turn of the event loop
share one pipelined round trip to Redis (`redis_client/turn_batch.py`).

Each call is still its own EVALSHA, which Redis runs atomically in the order sent, so batching
changes no count and no answer: it only shares the trip. A lone call goes straight to Redis
from its caller (a caller that gives up then cancels its own command, which redis-py answers
by dropping that connection).
"""

import hashlib
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from ..redis_client.turn_batch import TurnBatch

Call = tuple[Sequence[str], Sequence[int]]


class PipelinedScript(TurnBatch[Call, list[Any]]):
    """`await script((keys, args))`: run the script on its keys, batched with concurrent calls."""

    def __init__(self, redis: Redis, source: str) -> None:
        super().__init__(self._evalsha, self._pipelined)
        self._redis = redis
        self._source = source
        self._sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def _pipelined(self, calls: list[Call]) -> list[Any]:
        if len(calls) == 1:
            return [await self._evalsha(calls[0])]
        async with self._redis.pipeline(transaction=False) as pipe:
            for keys, args in calls:
                pipe.evalsha(self._sha, len(keys), *keys, *args)
            results: list[object] = await pipe.execute(raise_on_error=False)
        unknown = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
        if unknown:  # a restarted or new Redis: those calls did not run; load, run them now
            await self._redis.script_load(self._source)
            for i in unknown:
                results[i] = await self._evalsha(calls[i])
        return results

    async def _evalsha(self, call: Call) -> list[Any]:
        keys, args = call
        try:
            result = await self._redis.evalsha(self._sha, len(keys), *keys, *args)
        except NoScriptError:
            await self._redis.script_load(self._source)
            result = await self._redis.evalsha(self._sha, len(keys), *keys, *args)
        return list(result)
