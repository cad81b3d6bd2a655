"""The service's own saturation signals, and what it is: observability's metric families.

- `event_loop_lag_seconds`: how late a timer fires. One event loop serves every request, so
  CPU-bound work or a blocking call in a handler shows here before it shows anywhere else.
- `database_pool_connections{state}` and `database_pool_max_connections`: connections in use
  against the most the pool may open; a pool at its limit makes requests queue.
- `build_info{version,commit}`: 1, so dashboards can show which build served what.
"""

import asyncio
from collections.abc import Iterable

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from ..capability import Metric, Sample
from .telemetry import telemetry_of

LAG_INTERVAL_SECONDS = 0.5
LAG_WINDOW_SECONDS = 5.0


def database_engine(app: FastAPI) -> AsyncEngine:
    """The engine of the service's own database (main.py opens it; with sharding, shard 0's)."""
    engine = app.state.engine
    if not isinstance(engine, AsyncEngine):
        raise TypeError(f"app.state.engine is a {type(engine).__name__}, not an AsyncEngine")
    return engine


async def measure_event_loop_lag(app: FastAPI) -> None:
    """An in-app process: sleeps `LAG_INTERVAL_SECONDS` again and again, and keeps the worst
    overshoot of the last `LAG_WINDOW_SECONDS` as the lag."""
    loop = asyncio.get_running_loop()
    telemetry = telemetry_of(app)
    worst, window_started = 0.0, loop.time()
    while True:
        before = loop.time()
        await asyncio.sleep(LAG_INTERVAL_SECONDS)
        now = loop.time()
        worst = max(worst, now - before - LAG_INTERVAL_SECONDS)
        if now - window_started >= LAG_WINDOW_SECONDS:
            telemetry.event_loop_lag_seconds, worst, window_started = worst, 0.0, now


def runtime_metrics(app: FastAPI) -> Iterable[Metric]:
    settings = app.state.settings
    yield Metric(
        "build_info",
        "gauge",
        "The build serving: always 1, labelled with its version and commit.",
        (Sample({"version": settings.service_version, "commit": settings.service_commit}, 1),),
    )
    yield Metric(
        "event_loop_lag_seconds",
        "gauge",
        f"The longest delay of a timer on the event loop in the last {LAG_WINDOW_SECONDS:g} s.",
        (Sample({}, telemetry_of(app).event_loop_lag_seconds),),
    )
    pool = database_engine(app).pool
    if isinstance(pool, QueuePool):
        in_use = pool.checkedout()
        yield Metric(
            "database_pool_connections",
            "gauge",
            "Database connections of this process, in use or idle in the pool.",
            (Sample({"state": "in_use"}, in_use), Sample({"state": "idle"}, pool.checkedin())),
        )
        yield Metric(
            "database_pool_max_connections",
            "gauge",
            "The most database connections the pool may open (pool size + overflow).",
            (Sample({}, pool.size() + settings.database_max_overflow),),
        )
