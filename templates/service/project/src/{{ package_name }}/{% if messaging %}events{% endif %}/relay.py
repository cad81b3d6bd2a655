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
from collections.abc import Sequence

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from . import outbox
from .dependencies import Messaging, OutboxDatabase, messaging_of, outbox_databases
from .outbox import NOTIFY_CHANNEL, PendingEvent
from .retries import backoff_seconds, describe
from .transport import Outgoing

logger = logging.getLogger(__name__)

PRUNE_LOCK = 0x6D736770  # pg advisory lock key: one pruner at a time across instances


class PublishError(Exception):
    pass


def waves(events: Sequence[PendingEvent]) -> list[list[PendingEvent]]:
    """Wave n holds the n-th event of each aggregate, in commit order."""
    found: list[list[PendingEvent]] = []
    seen: dict[str, int] = {}
    for event in events:
        index = seen.get(event.aggregate_id, 0)
        seen[event.aggregate_id] = index + 1
        if index == len(found):
            found.append([])
        found[index].append(event)
    return found


def outgoing(event: PendingEvent) -> Outgoing:
    return Outgoing(key=event.aggregate_id, body=event.payload.encode(), headers=event.headers)


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

    async def publish_batch(self) -> int:
        """One round: claim, publish, mark. Returns how many events were claimed; raises
        `PublishError` when the broker refused or did not confirm some of them."""
        await self.messaging.connect()
        sent, _ = await self._round(None)
        return sent

    async def _round(self, locked: "asyncio.Future[int] | None") -> tuple[int, bool]:
        """Lock a batch and tell `locked` how many rows (the next round may lock its own as
        soon as this one holds these); keep the events that may go now; publish them; mark
        what was confirmed; commit. Returns how many went, and whether some were held back
        (an earlier event of their aggregate was outside the batch)."""
        try:
            async with self.sessions() as session, session.begin():
                batch = await outbox.lock_batch(session, self.settings.messaging_relay_batch_size)
                if locked is not None and not locked.done():
                    locked.set_result(len(batch))
                pending = await outbox.may_go_now(session, batch)
                if not pending:
                    return 0, bool(batch)
                published, failures = await self._publish(pending)
                await outbox.mark_published(session, published)
                await outbox.mark_failed(session, failures)
        except BaseException as error:
            if locked is not None and not locked.done():
                locked.set_exception(error)
            raise
        stats = self.messaging.stats
        stats.published += len(published)
        stats.publish_failures += len(failures)
        if failures:
            raise PublishError(f"{len(failures)} of {len(pending)} events not published: "
                               f"{next(iter(failures.values()))}")  # fmt: skip
        return len(pending), len(pending) < len(batch)

    async def _publish(self, pending: Sequence[PendingEvent]) -> tuple[list[int], dict[int, str]]:
        channel = self.messaging.channels.items
        published: list[int] = []
        failures: dict[int, str] = {}
        blocked: set[str] = set()
        for wave in waves(pending):
            sendable = [event for event in wave if event.aggregate_id not in blocked]
            try:
                async with asyncio.timeout(self.settings.messaging_publish_timeout_seconds):
                    errors = await self.messaging.transport.publish(
                        channel, [outgoing(event) for event in sendable]
                    )
            except TimeoutError as error:
                errors = [error] * len(sendable)
            for event, failure in zip(sendable, errors, strict=True):
                if failure is None:
                    published.append(event.id)
                else:
                    failures[event.id] = describe(failure)
                    blocked.add(event.aggregate_id)
        return published, failures

    async def drain(self) -> int:
        """Publish rounds until nothing is left to claim; returns how many events went out.

        Pipelined: a round locks its batch as soon as the round before it holds its own, so
        the next batch is claimed and sent while the broker confirms the previous ones and
        they are marked (the database's and the broker's waits overlap, and the producer
        always has the next messages); at most MESSAGING_RELAY_CONCURRENCY rounds are in
        flight, each in its own transaction. Each round skips the rows the rounds before it
        locked and keeps no event whose aggregate has an earlier one among them (`claim`), so
        the order per aggregate and at-least-once hold as for rounds one after another. The
        events a round held back are claimed again once the rounds ahead of it are done (a
        next pass, as long as the last one published anything). After an error no new round
        starts; the first error is raised once every round in flight stopped."""
        await self.messaging.connect()
        total = 0
        while True:
            published, held_back = await self._pass()
            total += published
            if not (held_back and published):
                return total

    async def _pass(self) -> tuple[int, bool]:
        """Rounds until one locks nothing, one could send nothing of what it locked (the rounds
        ahead hold what comes first: claiming again before they finish would only find the
        same events), or one fails. Returns how many events went, and whether a round held
        some back."""
        slots = asyncio.Semaphore(self.settings.messaging_relay_concurrency)
        running: set[asyncio.Task[tuple[int, bool]]] = set()
        errors: list[BaseException] = []
        published, held_back, stalled = 0, False, False
        loop = asyncio.get_running_loop()

        def finished(task: asyncio.Task[tuple[int, bool]]) -> None:
            nonlocal published, held_back, stalled
            running.discard(task)
            slots.release()
            if task.cancelled():
                return
            if (error := task.exception()) is not None:
                errors.append(error)
                return
            sent, held = task.result()
            published += sent
            held_back = held_back or held
            stalled = stalled or (held and not sent)

        try:
            while not errors:
                await slots.acquire()
                if errors or stalled:
                    slots.release()
                    break
                locked: asyncio.Future[int] = loop.create_future()
                task = asyncio.create_task(self._round(locked))
                running.add(task)
                task.add_done_callback(finished)
                try:
                    if not await locked:
                        break
                except Exception:  # noqa: BLE001 - the round's error is raised below
                    break
            await asyncio.gather(*running, return_exceptions=True)
        except BaseException:  # cancelled: so are the rounds (their rows stay unpublished)
            for task in list(running):
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise
        if errors:
            raise errors[0]
        return published, held_back

    async def prune(self) -> None:
        async with self.sessions() as session, session.begin():
            locked = await session.scalar(select(func.pg_try_advisory_xact_lock(PRUNE_LOCK)))
            if not locked:
                return
            deleted = await outbox.prune(
                session,
                self.settings.messaging_outbox_retention_seconds,
                self.settings.messaging_processed_retention_seconds,
            )
        if deleted:
            logger.info("pruned %d published events and processed-event records%s", deleted,
                        self.where)  # fmt: skip

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
                    await self.prune()
                failures = 0
            except (PublishError, SQLAlchemyError, OSError) as error:
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
