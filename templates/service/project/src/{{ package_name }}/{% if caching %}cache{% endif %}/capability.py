"""Caching in the capability protocol: its objects on `app.state.caches`, its router, its
counters as metrics, and its entries in the items extension points (reads through the cache,
invalidation after commit)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..capability import Capability
from ..extensions import Extensions
from .dependencies import build_caches
from .items import invalidate, item_to_read, read_through_cache
from .metrics import cache_metrics
from .router import router


@asynccontextmanager
async def caches(app: FastAPI) -> AsyncIterator[None]:
    extensions = app.state.extensions
    app.state.caches = build_caches(app.state.redis, app.state.settings, extensions.scope_key)
    yield


def extend(extensions: Extensions) -> None:
    extensions.items.read = read_through_cache
    extensions.items.changed.append(invalidate)
    extensions.read_ahead.append(item_to_read)


CAPABILITY = Capability(
    name="caching", lifespan=caches, routers=(router,), metrics=cache_metrics, extend=extend
)
