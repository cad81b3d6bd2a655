"""The shared Redis client's connection pool as metric families of the capability protocol.

Every command waits for a pooled connection: connections in use near the pool's maximum mean
commands queue (and then time out), whatever Redis itself says.
"""

from collections.abc import Iterable
from typing import cast

from fastapi import FastAPI
from redis.asyncio import Redis

from ..capability import Metric, Sample

# redis-py names the states as OpenTelemetry does: "idle" and "used".
STATES = {"idle": "idle", "used": "in_use"}


def redis_metrics(app: FastAPI) -> Iterable[Metric]:
    pool = cast(Redis, app.state.redis).connection_pool
    counts = {"idle": 0, "in_use": 0}
    for count, attributes in pool.get_connection_count():
        state = STATES.get(str(attributes.get("db.client.connection.state")))
        if state is not None:
            counts[state] += count
    yield Metric(
        "redis_pool_connections",
        "gauge",
        "Connections of the shared Redis client, in use or idle in its pool.",
        tuple(Sample({"state": state}, value) for state, value in counts.items()),
    )
    yield Metric(
        "redis_pool_max_connections",
        "gauge",
        "The most connections the shared Redis client's pool may open.",
        (Sample({}, pool.max_connections),),
    )
