"""Each shard's WAL position for the write tokens: one query answers every write waiting.

A write's token needs a position read after its commit, on the shard's one monitor connection
(`topology.py`). One query per write would queue every concurrent write behind the others on
that connection: under load, 100 writes in flight waited beyond the pool's timeout, and a
committed write answered 500. Instead, the writes that ask while a query runs share the next
one, which starts after every one of them asked (so after their commits) and so returns a
position past all of them: one round trip per batch, however many writes are in flight.
"""

import asyncio

from sqlalchemy import text

from .tokens import parse_lsn
from .topology import Monitor


class PositionReader:
    """`pg_current_wal_insert_lsn()` of one server, read at most once at a time."""

    def __init__(self, monitor: Monitor) -> None:
        self._monitor = monitor
        self._next: asyncio.Future[int] | None = None
        """The batch that starts when the running query ends: the callers since it began."""
        self._running: asyncio.Task[None] | None = None
        self.queries = 0
        """Queries sent so far (how many batches the writes made)."""

    async def position(self) -> int:
        """A WAL position at or past every commit made before this call."""
        batch = self._next
        if batch is None:
            batch = self._next = asyncio.get_running_loop().create_future()
            batch.add_done_callback(_retrieve)
            if self._running is None:
                self._start()
        # Shielded: a caller that gives up does not cancel the query of the others.
        return await asyncio.shield(batch)

    def _start(self) -> None:
        """Send the waiting batch's query, if a batch waits."""
        batch, self._next = self._next, None
        if batch is None:
            return
        self._running = asyncio.get_running_loop().create_task(self._query(batch))

    async def _query(self, batch: asyncio.Future[int]) -> None:
        try:
            self.queries += 1
            async with self._monitor.connect() as connection:
                lsn = await connection.scalar(text("SELECT pg_current_wal_insert_lsn()::text"))
            batch.set_result(parse_lsn(str(lsn)))
        except asyncio.CancelledError:  # the app is stopping: so do the callers waiting
            batch.cancel()
            if self._next is not None:
                self._next.cancel()
                self._next = None
            raise
        except Exception as error:  # noqa: BLE001 - every caller of the batch gets it
            batch.set_exception(error)
        finally:
            self._running = None
            self._start()

    def close(self) -> None:
        if self._running is not None:
            self._running.cancel()


def _retrieve(batch: asyncio.Future[int]) -> None:
    """Mark a failure as seen: its callers may all have given up."""
    if not batch.cancelled():
        batch.exception()
