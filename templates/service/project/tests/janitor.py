"""The clean-up before every test, on connections kept for the whole session.

Each test runs in an event loop of its own, and a connection belongs to the loop that opened it,
so the clean-up used to connect anew for every test (PostgreSQL forks a backend and checks the
password each time; Redis makes a client). The janitor is one thread with one event loop that
lives as long as the session, holding one connection per URL; a test's fixtures await its work
from their own loop (`await janitor.run(...)`) or wait for it (`janitor.wait(...)`) where no loop
runs. It runs only statements that leave nothing behind on the connection (TRUNCATE, INSERT,
UNLINK): no session setting, role or transaction outlives one call.
"""

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

T = TypeVar("T")


async def _execute(engine: AsyncEngine, statements: tuple[str, ...]) -> None:
    async with engine.connect() as connection:
        for statement in statements:
            await connection.execute(text(statement))


class Janitor:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="test-janitor", daemon=True
        )
        self.thread.start()
        self.engines: dict[str, AsyncEngine] = {}

    def submit(self, work: Coroutine[Any, Any, T]) -> "concurrent.futures.Future[T]":
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def run(self, work: Coroutine[Any, Any, T]) -> Awaitable[T]:
        """From a test's event loop: awaited there, run on the janitor's."""
        return asyncio.wrap_future(self.submit(work))

    def wait(self, work: Coroutine[Any, Any, T]) -> T:
        """Where no event loop runs (a sync fixture)."""
        return self.submit(work).result()

    def engine(self, url: str, *, autocommit: bool = True) -> AsyncEngine:
        """This URL's engine, keeping one connection (in autocommit, or in transactions as the
        app's); a second one at once is opened and closed again. For the janitor's loop only."""
        key = f"{'autocommit' if autocommit else 'transactions'} {url}"
        engine = self.engines.get(key)
        if engine is None:
            options = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
            engine = self.engines[key] = create_async_engine(
                url, pool_size=1, max_overflow=1, **options
            )
        return engine

    async def execute(self, url: str, *statements: str) -> None:
        """Each statement committed on its own, in order, on this URL's kept connection; on a
        new one if the kept one was closed under it (the server restarted, a test ended it)."""
        engine = self.engine(url)
        try:
            await _execute(engine, statements)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            await _execute(engine, statements)

    def close(self) -> None:
        """Close every kept connection, then stop the thread."""

        async def dispose() -> None:
            for engine in self.engines.values():
                await engine.dispose()

        try:
            self.wait(dispose())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join()
            self.loop.close()
