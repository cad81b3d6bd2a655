"""The app factory: the one place where settings, resources, middleware and routers meet.

Run it with `uvicorn --factory <package>.main:create_app`. Tests call `create_app(settings)`
with their own settings, so each test app has its own database pool and readiness checks.

The factory never names a capability: it iterates over `capabilities.CAPABILITIES` (see the
protocol in `capability.py`), wiring each one's extension points, middleware, routers, lifespan
resources, readiness checks and in-app processes, in that list's order.
"""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from .body_limit import body_limit
from .capability import (
    BODY_LIMIT_POSITION,
    REQUEST_CONTEXT_POSITION,
    SECURITY_HEADERS_POSITION,
    Capability,
    Middleware,
    extended,
)
from .core_config import CoreSettings
from .database import build_engine, build_sessionmaker, database_readiness_check
from .health.checks import ReadinessCheck
from .health.router import router as health_router
from .items.router import router as items_router
from .logging import configure_logging
from .middleware import request_context
from .problems import install_problem_handlers
from .security_headers import security_headers

logger = logging.getLogger(__name__)


def create_app(
    settings: CoreSettings | None = None,
    capabilities: Sequence[Capability] | None = None,
    *,
    in_app_processes: bool = True,
) -> FastAPI:
    """The app; `in_app_processes=False` for a worker or a command, which open the app's
    resources but run none of the processes that belong in the API (a relay, a sampler)."""
    if settings is None:
        from .config import load_settings  # noqa: PLC0415

        settings = load_settings()
    if capabilities is None:
        # Imported here: a test of some capabilities builds an app of those alone, and reads
        # neither the generated list nor the other capabilities' packages.
        from .capabilities import CAPABILITIES  # noqa: PLC0415

        capabilities = CAPABILITIES
    docs = settings.docs_enabled
    app = FastAPI(
        title=settings.service_name,
        version=settings.service_version,
        lifespan=_lifespan(settings, capabilities, in_app_processes),
        openapi_url="/openapi.json" if docs else None,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        # FastAPI's own telemetry stays off: a capability that traces or meters requests does it
        # through the protocol, and FastAPI's would check for a global provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.capabilities = capabilities
    app.state.extensions = extensions = extended(capabilities)
    configure_logging(settings, fields=extensions.log_fields)
    install_problem_handlers(app)
    _add_middleware(app, settings, capabilities)

    # FastAPI tries the routers in this order on every request: the hot path's first.
    app.include_router(items_router)
    app.include_router(health_router)
    for capability in capabilities:
        for router in capability.routers:
            app.include_router(router)
    return app


def _add_middleware(
    app: FastAPI, settings: CoreSettings, capabilities: Sequence[Capability]
) -> None:
    """Lowest position outermost. Starlette wraps the last added outermost, so add in reverse."""
    stack = [
        Middleware(SECURITY_HEADERS_POSITION, security_headers),
        Middleware(REQUEST_CONTEXT_POSITION, request_context),
        Middleware(BODY_LIMIT_POSITION, body_limit),
    ]
    stack += [m for capability in capabilities for m in capability.middleware]
    for middleware in sorted(stack, key=lambda m: m.position, reverse=True):
        app.add_middleware(middleware.factory, settings=settings)


def _lifespan(
    settings: CoreSettings, capabilities: Sequence[Capability], in_app_processes: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        extensions = app.state.extensions
        # The service's own database.
        app.state.engine = engine = build_engine(settings, extensions.database_connect_args)
        app.state.sessionmaker = build_sessionmaker(engine, extensions.session_begin)
        async with AsyncExitStack() as stack:
            stack.push_async_callback(engine.dispose)
            checks: list[ReadinessCheck] = [database_readiness_check(engine)]
            for capability in capabilities:
                await stack.enter_async_context(capability.lifespan(app))
                checks.extend(capability.readiness(app))
            app.state.readiness_checks = checks
            in_app = [p for c in capabilities for p in c.processes if p.in_app]
            for process in in_app if in_app_processes else []:
                task = asyncio.create_task(process.run(app), name=process.name)
                stack.push_async_callback(_stop, task)
            if settings.gc_freeze_after_start_up:
                _freeze_start_up_heap(stack)
            logger.info("service started")
            yield
        logger.info("service stopped")

    return lifespan


def _freeze_start_up_heap(stack: AsyncExitStack) -> None:
    """What start-up built (modules, routes, pools, settings) lives as long as the app does.

    Frozen, those objects are skipped by every collection, so a generation-2 collection no
    longer rescans the whole heap and stalls every request in flight; in the request budget
    benchmark the tail latency under load drops accordingly. Unfrozen at shutdown, so an app
    that stops (as every test app does) leaves nothing uncollectable behind.
    """
    gc.collect()
    gc.freeze()
    stack.callback(gc.unfreeze)


async def _stop(task: "asyncio.Task[None]") -> None:
    """Cancel a process and wait for it to end. Its own CancelledError is the expected end; one
    meant for the caller (a timeout around the app's stop) must reach the caller."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
