"""A test database dropped at the end of a session, tried again for a few seconds.

`DROP DATABASE ... WITH (FORCE)` ends the other sessions on the database first, and refuses
("must be a member of the role whose process is being terminated") when one of them is a
process it may not signal: a session of a role the tests' role is not a member of, or a
process with no role, such as an autovacuum worker that has just started on the database.
Either is gone a moment later, so the drop is tried again rather than left to fail the session.
"""

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

ATTEMPTS = 20
PAUSE_SECONDS = 0.5


async def _drop(server_url: str, name: str) -> None:
    engine = create_async_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


def drop_database(server_url: str, name: str) -> None:
    """Drop `name` on the server at `server_url`, trying for up to ten seconds."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            asyncio.run(_drop(server_url, name))
        except DBAPIError:
            if attempt == ATTEMPTS:
                raise
            time.sleep(PAUSE_SECONDS)
        else:
            return
