"""PostgreSQL through SQLAlchemy 2 (async): the engine, sessions, and the readiness check.

The engine is created in the app's lifespan (see `main.py`) and kept on `app.state`, so every
app instance, including each test's, owns its own connection pool.
"""

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction

from .core_config import CoreSettings
from .database_iam import authenticate_with_iam_tokens
from .health.checks import ReadinessCheck

# Deterministic constraint names, so Alembic can drop and rename them in later migrations.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every table; Alembic compares migrations against its metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def build_engine(
    settings: CoreSettings, connect_args: Mapping[str, Any] | None = None
) -> AsyncEngine:
    """The service's engine; `connect_args` go to the driver's connect (the extension point
    `database_connect_args`)."""
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_pre_ping=True,  # survive database restarts and failovers without a failed request
        # Errors and logs show the SQL but never its parameters: they are the clients' data.
        hide_parameters=True,
        connect_args=dict(connect_args or {}),
    )
    if settings.database_iam_auth:
        authenticate_with_iam_tokens(engine)
    return engine


def build_sessionmaker(
    engine: AsyncEngine, session_begin: Sequence[Callable[[Connection], None]] = ()
) -> async_sessionmaker[AsyncSession]:
    """Sessions of this app. Each transaction starts with the `session_begin` hooks (the
    extension point of that name, e.g. multi-tenancy's `SET LOCAL`), on its own connection."""
    # Objects stay readable after commit, so an endpoint can return what it just saved.
    return async_sessionmaker(
        engine, expire_on_commit=False, sync_session_class=session_class(session_begin)
    )


def session_class(
    session_begin: Sequence[Callable[[Connection], None]] = (), base: type[Session] = Session
) -> type[Session]:
    """A session class of this app's own (so its event listener does not reach other apps),
    running the `session_begin` hooks at the start of every transaction."""
    hooks = list(session_begin)
    own = type("ServiceSession", (base,), {})
    if hooks:

        def begin(_: Session, __: SessionTransaction, connection: Connection) -> None:
            for hook in hooks:
                hook(connection)

        event.listen(own, "after_begin", begin)
    return own


def database_readiness_check(engine: AsyncEngine) -> ReadinessCheck:
    async def select_one() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return ReadinessCheck(name="database", probe=select_one)


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    return cast(async_sessionmaker[AsyncSession], request.app.state.sessionmaker)


SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]


async def get_session(sessionmaker: SessionmakerDep) -> AsyncIterator[AsyncSession]:
    """One session per request; services commit explicitly, anything uncommitted rolls back."""
    async with sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
