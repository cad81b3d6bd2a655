"""The app factory: the one place where settings, resources, middleware and routers meet.

Run it with `uvicorn --factory <package>.main:create_app`. Tests call `create_app(settings)`
with their own settings, so each test app has its own database pool and readiness checks.

Wiring points for capabilities, in order: a resource opened in `lifespan` (and closed after
`yield`), its readiness check appended to `readiness_checks`, its router included below.
"""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from .config import Settings
from .database import build_engine, build_sessionmaker, database_readiness_check
from .health.checks import ReadinessCheck
from .health.router import router as health_router
from .items.router import router as items_router
from .logging import configure_logging
from .middleware import RequestContextMiddleware
from .problems import install_problem_handlers

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings)

    app = FastAPI(
        title=settings.service_name,
        version=settings.service_version,
        lifespan=_lifespan(settings),
    )
    app.state.settings = settings
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware)

    app.include_router(health_router)
    app.include_router(items_router)
    return app


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = build_engine(settings)
        app.state.sessionmaker = build_sessionmaker(engine)

        readiness_checks: list[ReadinessCheck] = [database_readiness_check(engine)]
        app.state.readiness_checks = readiness_checks

        logger.info("service started")
        try:
            yield
        finally:
            await engine.dispose()
            logger.info("service stopped")

    return lifespan
