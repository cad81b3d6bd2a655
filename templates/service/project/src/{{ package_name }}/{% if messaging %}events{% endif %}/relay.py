"""The outbox relay: publishes committed events, in order per aggregate, at least once.

It runs in every API process (an in-app process of the capability): a committed write is
published by whichever instance claims it first, with nothing else to deploy. Each round, in one
transaction: claim a batch with `FOR UPDATE SKIP LOCKED` (instances never take the same rows),
publish it, wait for the broker's confirmation of each event, mark the confirmed ones published,
commit. A crash anywhere before that commit leaves the rows unpublished and unlocked: another
round publishes them again (the consumers skip what they already processed).

Order: an aggregate's events go out one "wave" at a time (the first event of every aggregate in
the batch, then the second...), so a later event is never sent before an earlier one was
confirmed, and an aggregate whose event failed sends nothing more this round.

Several databases (sharding: an outbox on every shard, each event on the shard of its write):
one relay per database, each with its own LISTEN connection, poll and pruning. An aggregate's
events are written where the aggregate lives, so each relay keeps its order.

Wake-ups: LISTEN for the NOTIFY that every outbox insert sends at commit; a poll every
MESSAGING_RELAY_POLL_SECONDS covers a lost connection. Published rows older than
MESSAGING_OUTBOX_RETENTION_SECONDS are pruned every MESSAGING_PRUNE_INTERVAL_SECONDS.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from . import outbox
from .dependencies import Messaging, OutboxDatabase, messaging_of, outbox_databases
from .outbox import NOTIFY_CHANNEL, PendingEvent
from .retries import backoff_seconds, describe

logger = logging.getLogger(__name__)

PRUNE_LOCK = 0x6D736770  # pg advisory lock key: one pruner at a time across instances
DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError)  # the relay's own statements
PRUNE_BUDGET_SECONDS = 5.0  # per prune pass, so a large backlog of old rows delays no publish long


class PublishError(Exception):
    pass


def waves(events: Sequence[PendingEvent]) -> list[list[PendingEvent]]:
    """Wave n holds the n-th event of each aggregate, in commit order."""
    seen: dict[str, int] = {}
    for event in events:
        seen[event.key] = seen.get(event.key, 0) + 1
    if len(seen) == len(events):
        return [list(events)]  # one event per aggregate (the usual batch): a single wave
    found: list[list[PendingEvent]] = []
    seen.clear()
    for event in events:
        index = seen.get(event.key, 0)
        seen[event.key] = index + 1
        if index == len(found):
            found.append([])
        found[index].append(event)
    return found


class Relay:
    def __init__(
        self,
        messaging: Messaging,
        sessions: async_sessionmaker[AsyncSession],
        database: str = "",
    ) -> None:
        self.messaging = messaging
        self.settings = messaging.settings
        self.sessions = sessions
        self.where = f" ({database})" if database else ""
        self.held: list[outbox.Held] = []
        """What this relay's rounds in flight hold (see `outbox.claim`)."""

    async def publish_batch(self) -> int:
        """One round: claim, publish, mark. Returns how many events were claimed; raises
        `PublishError` when the broker refused or did not confirm some of them."""
        await self.messaging.connect()
        async with driver_connection(self.sessions) as connection:
            return await self._round(connection)

    async def _round(self, connection: Any) -> int:
        """One round in a transaction of the driver's connection (see `outbox.CLAIM`). A round
        held back whole by this relay's other rounds only waits until one of them ended, and
        claims again: it does not end a drain while there is more to publish."""
        while True:
            batch: outbox.Held | None = None
            try:
                async with connection.transaction():
                    batch = await outbox.claim(
                        connection, self.settings.messaging_relay_batch_size, self.held
                    )
                    if batch is None:
                        return 0
                    if pending := batch.pending:
                        published, failures = await self._publish(pending)
                        await outbox.mark_published(connection, published)
                        await outbox.mark_failed(connection, failures)
            finally:
                if batch is not None:
                    self.held.remove(batch)  # its rows are unlocked now
                    batch.ended.set()
            if pending:
                break
            if not batch.blocking:
                return 0  # held back by another relay: it publishes, then NOTIFY or the poll
            waits = [asyncio.ensure_future(other.ended.wait()) for other in batch.blocking]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
        stats = self.messaging.stats
        stats.published += len(published)
        stats.publish_failures += len(failures)
        if failures:
            raise PublishError(f"{len(failures)} of {len(pending)} events not published: "
                               f"{next(iter(failures.values()))}")  # fmt: skip
        return len(pending)

    async def _publish(self, pending: Sequence[PendingEvent]) -> tuple[list[int], dict[int, str]]:
        channel = self.messaging.channels.items
        published: list[int] = []
        failures: dict[int, str] = {}
        blocked: set[str] = set()
        for wave in waves(pending):
            sendable = [e for e in wave if e.key not in blocked] if blocked else wave
            try:
                async with asyncio.timeout(self.settings.messaging_publish_timeout_seconds):
                    errors = await self.messaging.transport.publish(channel, sendable)
            except TimeoutError as error:
                errors = [error] * len(sendable)
            for event, failure in zip(sendable, errors, strict=True):
                if failure is None:
                    published.append(event.id)
                else:
                    failures[event.id] = describe(failure)
                    blocked.add(event.key)
        return published, failures

    async def drain(self) -> int:
        """Publish rounds back to back until nothing is left to claim, with
        MESSAGING_RELAY_CONCURRENCY rounds in flight (one claims and marks in the database while
        another waits for the broker), each on a connection of its own for the whole drain;
        returns how many events went out. Raises the first `PublishError` (or database error)
        once every lane stopped."""
        published = 0
        await self.messaging.connect()

        async def lane() -> None:
            nonlocal published
            async with driver_connection(self.sessions) as connection:
                while claimed := await self._round(connection):
                    published += claimed

        lanes = [lane() for _ in range(self.settings.messaging_relay_concurrency)]
        errors = [e for e in await asyncio.gather(*lanes, return_exceptions=True) if e]
        if errors:
            raise errors[0]
        return published

    async def prune(self) -> bool:
        """Delete what is past its retention, chunk after chunk, each chunk in a short
        transaction of its own holding the advisory lock (one pruner at a time across
        instances, and no lock outlives a dropped connection), until a chunk comes back short
        or PRUNE_BUDGET_SECONDS ran out. Returns True when rows may be left (out of time):
        `run` prunes again after its next drain rather than a whole interval later, so pruning
        keeps up with any write rate without starving the relay."""
        deleted = 0
        deadline = time.monotonic() + PRUNE_BUDGET_SECONDS
        more = True
        while more:
            async with self.sessions() as session, session.begin():
                locked = await session.scalar(select(func.pg_try_advisory_xact_lock(PRUNE_LOCK)))
                if not locked:
                    more = False  # another instance is pruning: it goes on until done
                    break
                events, records = await outbox.prune(
                    session,
                    self.settings.messaging_outbox_retention_seconds,
                    self.settings.messaging_processed_retention_seconds,
                    outbox.PRUNE_CHUNK,
                )
            deleted += events + records
            more = max(events, records) >= outbox.PRUNE_CHUNK
            if time.monotonic() >= deadline:
                break
        if deleted:
            logger.info("pruned %d published events and processed-event records%s", deleted,
                        self.where)  # fmt: skip
        return more

    async def run(self, wake: asyncio.Event) -> None:
        """Publish until cancelled: drain the outbox after every wake-up or poll, backing off
        while the broker or the database fails."""
        failures = 0
        next_prune = time.monotonic()
        while True:
            wake.clear()  # before draining: a NOTIFY meanwhile triggers the next drain
            try:
                await self.drain()
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + self.settings.messaging_prune_interval_seconds
                    if await self.prune():
                        next_prune = time.monotonic()  # rows left: on after the next drain
                failures = 0
            except (PublishError, SQLAlchemyError, *DRIVER_ERRORS, OSError) as error:
                failures += 1
                delay = backoff_seconds(
                    failures,
                    self.settings.messaging_relay_poll_seconds,
                    self.settings.messaging_relay_backoff_max_seconds,
                )
                logger.warning("outbox relay%s: %s; next try in %.1fs", self.where,
                               describe(error), delay)  # fmt: skip
                await asyncio.sleep(delay)
                continue
            try:
                async with asyncio.timeout(self.settings.messaging_relay_poll_seconds):
                    await wake.wait()
            except TimeoutError:
                pass


@asynccontextmanager
async def driver_connection(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Any]:
    """A pooled connection as the driver's (asyncpg) object: the relay's statements run on it,
    in transactions of its own (SQLAlchemy begins lazily, at its first statement: it has begun
    none here). One cut short inside its transaction is not given back to the pool."""
    async with sessions() as session:
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        if driver is None:
            raise ConnectionError("no driver connection for the relay")
        try:
            yield driver
        finally:
            if driver.is_in_transaction():
                await connection.invalidate()


async def listen(engine: AsyncEngine, wake: asyncio.Event, retry_seconds: float) -> None:
    """LISTEN on a connection of its own and set `wake` on every NOTIFY, reconnecting when the
    connection drops (meanwhile the relay polls)."""

    def notified(*_: object) -> None:
        wake.set()

    while True:
        try:
            async with engine.connect() as connection:
                raw = (await connection.get_raw_connection()).driver_connection
                if raw is None:
                    raise ConnectionError("no driver connection to LISTEN on")
                closed = asyncio.Event()
                raw.add_termination_listener(lambda *_, ended=closed: ended.set())
                await raw.add_listener(NOTIFY_CHANNEL, notified)
                try:
                    wake.set()  # events committed while nobody listened
                    await closed.wait()
                finally:
                    if not raw.is_closed():
                        await raw.remove_listener(NOTIFY_CHANNEL, notified)
        except (SQLAlchemyError, OSError) as error:
            logger.debug("outbox LISTEN connection failed: %s", describe(error))
        await asyncio.sleep(retry_seconds)


def relays(app: FastAPI) -> list[tuple[OutboxDatabase, Relay]]:
    """A relay for each database holding an outbox (see `outbox_databases`)."""
    messaging = messaging_of(app)
    return [(db, Relay(messaging, db.sessions, db.name)) for db in outbox_databases(app)]


async def run_relay(app: FastAPI) -> None:
    """The in-app process: a relay and its LISTEN connection per outbox database, until the
    app stops."""
    messaging = messaging_of(app)
    if not messaging.settings.messaging_relay_enabled:
        return
    messaging.expect_connection()  # before any await: readiness waits for its connection
    poll = messaging.settings.messaging_relay_poll_seconds
    async with asyncio.TaskGroup() as tasks:
        for database, relay in relays(app):
            wake = asyncio.Event()
            tasks.create_task(listen(database.engine, wake, poll))
            tasks.create_task(relay.run(wake))
