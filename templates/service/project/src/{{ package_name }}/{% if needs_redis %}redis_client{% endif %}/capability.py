"""Redis in the capability protocol: the shared client lives on `app.state.redis` while the app
runs, its readiness check reports whether Redis answers, and its pool is measured.

The check is not critical: the service survives without Redis (the cache reads the database,
default rate limits fail open, a fail-closed policy answers 503 on its own routes), so a Redis
blip must not fail /health/ready and take every task out of the load balancer at once."""

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..capability import Capability
from ..health.checks import ReadinessCheck
from .client import build_redis, redis_readiness_check
from .metrics import redis_metrics


@asynccontextmanager
async def redis_client(app: FastAPI) -> AsyncIterator[None]:
    app.state.redis = redis = build_redis(app.state.settings)
    try:
        yield
    finally:
        await redis.aclose()


def readiness(app: FastAPI) -> Iterable[ReadinessCheck]:
    return (redis_readiness_check(app.state.redis, critical=False),)


CAPABILITY = Capability(
    name="redis", lifespan=redis_client, readiness=readiness, metrics=redis_metrics
)
