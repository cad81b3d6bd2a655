"""Rate limiting in the capability protocol: the limiter on `app.state.rate_limiter`, its
middleware (inside the request context, so refusals are logged with their request id), its
router, and its decisions as metrics."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..capability import Capability, Middleware
from .limiter import RateLimiter
from .metrics import rate_limit_metrics
from .middleware import RateLimitMiddleware
from .router import router

# Inside the request context (0), before any capability that needs the request admitted.
POSITION = 30


@asynccontextmanager
async def limiter(app: FastAPI) -> AsyncIterator[None]:
    app.state.rate_limiter = RateLimiter(app.state.redis, app.state.settings)
    yield


CAPABILITY = Capability(
    name="rate_limiting",
    lifespan=limiter,
    routers=(router,),
    middleware=(Middleware(POSITION, RateLimitMiddleware),),
    metrics=rate_limit_metrics,
)
