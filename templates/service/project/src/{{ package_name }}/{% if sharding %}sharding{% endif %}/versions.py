"""Every shard must be at the same migrations: the service refuses to start when they are not.

`alembic upgrade heads` migrates every shard, one after the other; a start that finds them at
different revisions (a shard restored from an old backup, an upgrade that stopped half way)
stops with one line naming each shard's revisions. A shard that cannot be reached at start is
not held against the start (readiness reports it); `/health/ready` also reports, without
failing, shards that disagree later (an upgrade in progress while the service keeps serving).
"""

import asyncio
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection

from .topology import Shard

Heads = frozenset[str]
UNDEFINED_FUNCTION, UNDEFINED_TABLE = "42883", "42P01"  # SQLSTATEs


class Connectable(Protocol):
    """An engine, or a server's `Monitor`."""

    def connect(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


async def migration_heads(engine: Connectable) -> Heads:
    """The revisions a database is at; empty when it was never migrated.

    Read through `migration_heads()` (migration `sharding_0002`), which runs as the
    migrations' role: the app's own role has no right on `alembic_version`. A database the
    sharding migrations never reached has no such function; its table says where it is."""
    async with engine.connect() as connection:
        try:
            return frozenset(await connection.scalars(text("SELECT migration_heads()")))
        except ProgrammingError as error:
            if getattr(error.orig, "sqlstate", None) != UNDEFINED_FUNCTION:
                raise
            await connection.rollback()
        try:
            rows = await connection.scalars(text("SELECT version_num FROM alembic_version"))
        except ProgrammingError as error:
            if getattr(error.orig, "sqlstate", None) != UNDEFINED_TABLE:
                raise
            return frozenset()  # never migrated
        return frozenset(rows)


async def shard_heads(shards: Sequence[Shard], timeout_seconds: float) -> dict[int, Heads | None]:
    """Each shard's revisions; None for a shard that did not answer."""

    async def heads(shard: Shard) -> Heads | None:
        try:
            async with asyncio.timeout(timeout_seconds):
                return await migration_heads(shard.monitor)
        except (OSError, TimeoutError, DBAPIError):
            return None

    found = await asyncio.gather(*(heads(shard) for shard in shards))
    return {shard.number: value for shard, value in zip(shards, found, strict=True)}


def disagreement(heads: Mapping[int, Heads | None]) -> str | None:
    """A sentence naming each shard's revisions when the shards that answered differ."""
    known = {shard: revisions for shard, revisions in heads.items() if revisions is not None}
    if len(set(known.values())) <= 1:
        return None
    each = "; ".join(
        f"shard {shard} at {', '.join(sorted(revisions)) or 'no revision'}"
        for shard, revisions in sorted(known.items())
    )
    return f"the shards are at different migrations ({each}): run `alembic upgrade heads`"
