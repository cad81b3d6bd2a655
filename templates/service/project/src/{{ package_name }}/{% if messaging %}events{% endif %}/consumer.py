"""The idempotent consumer: every event's effect happens once, however often it is delivered.

For each message, in order, inside `extensions.received(headers)` (tenant, trace context):

1. decode it; a message that is not an event this consumer knows (a "poison" message) goes
   straight to the dead-letter channel: no retry can fix it;
2. in one database transaction, record `(group, event_id)` in `messaging_processed_events`
   (`ON CONFLICT DO NOTHING`) and, only if that inserted a row, run the effect; a redelivered
   event finds its row and is skipped. A batch goes in one such transaction together, and
   message by message only when something in it failed;
3. on failure, retry in process with exponential backoff and jitter (MESSAGING_RETRY_ATTEMPTS);
   then hand it to the retry channel, which holds it MESSAGING_RETRY_DELAY_SECONDS, for up to
   MESSAGING_RETRY_ROUNDS rounds; then to the dead-letter channel. The partition or queue keeps
   moving meanwhile. While the database itself is unreachable nothing is counted as a failure:
   the consumer waits for it rather than dead-letter every message.

The batch is acknowledged (Kafka: offsets committed; RabbitMQ: acked) only after each of its
messages was processed, skipped, or accepted by the retry or dead-letter channel. A crash
before that redelivers the batch, and step 2 makes the redelivery harmless.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from ..extensions import Extensions
from . import faults, retries
from .dependencies import Messaging
from .models import ProcessedEvent
from .schemas import EVENT_ID, ItemEvent, PoisonMessageError, decode_event
from .transport import Batch, Incoming, Outgoing

logger = logging.getLogger(__name__)

Effect = Callable[[AsyncSession, ItemEvent], Awaitable[None]]
"""What handling an event does, in the transaction that records it as processed."""

POLL_SECONDS = 1.0


class Outcome(StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    RETRIED = "retried"
    DEAD_LETTERED = "dead_lettered"


class Consumer:
    def __init__(
        self,
        messaging: Messaging,
        sessions: async_sessionmaker[AsyncSession],
        extensions: Extensions,
        effect: Effect,
    ) -> None:
        self.messaging = messaging
        self.settings = messaging.settings
        self.channels = messaging.channels
        self.sessions = sessions
        self.extensions = extensions
        self.effect = effect

    async def run(self) -> None:
        """Consume the item events and their retry channel until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.consume(self.channels.items, self.channels.group))
            tasks.create_task(
                self.consume(self.channels.retry, self.channels.retry_group, delayed=True)
            )

    async def consume(self, channel: str, group: str, *, delayed: bool = False) -> None:
        failures = 0
        while True:
            await self.messaging.connect()
            try:
                async with self.messaging.transport.consume(
                    channel, group, self.settings.messaging_consumer_batch_size
                ) as consumption:
                    logger.info("consuming %s as %s", channel, group)
                    while True:
                        batch = await consumption.next_batch(POLL_SECONDS)
                        if batch.messages:
                            await self.handle(batch, delayed=delayed)
                        failures = 0
            except Exception:  # the broker went away, or a bug: log it, wait, consume again
                failures += 1
                logger.exception("consumer of %s failed; restarting", channel)
                await asyncio.sleep(self.backoff(failures))

    async def handle(self, batch: Batch, *, delayed: bool = False) -> None:
        """Dispose of every message of the batch, then acknowledge it. The whole batch goes in
        one transaction when it can (the common case); when an effect fails there, nothing of
        it was committed, and each message goes through `dispose` on its own, with retries."""
        stats = self.messaging.stats.consumed
        readable: list[tuple[Incoming, ItemEvent]] = []
        for message in batch.messages:
            if delayed:  # the retry channel: one at a time, each when it is due
                await self.until_due(message)
                stats[await self.dispose(message)] += 1
                continue
            try:
                readable.append((message, decode_event(message.body)))
            except PoisonMessageError:
                stats[await self.dispose(message)] += 1  # straight to the dead letters
        outcomes = await self.apply_together(readable) if readable else []
        if outcomes is None:
            outcomes = [await self.dispose(message) for message, _ in readable]
        for outcome in outcomes:
            stats[outcome] += 1
        if duplicates := outcomes.count(Outcome.DUPLICATE):
            logger.info("skipped %d redelivered events of a batch of %d: processed before",
                        duplicates, len(batch.messages))  # fmt: skip
        faults.reached(faults.BEFORE_SETTLE, str(outcomes.count(Outcome.PROCESSED)))
        await batch.settle()

    async def apply_together(
        self, readable: list[tuple[Incoming, ItemEvent]]
    ) -> list[Outcome] | None:
        """Every event of a batch in one transaction: their ids recorded in one statement,
        then each new one's effect inside its own message's `received` context (with the
        `session_begin` hooks run again for it, so each runs as its own tenant). None, and
        nothing committed, if anything failed."""
        try:
            async with self.sessions() as session, session.begin():
                recorded = await session.scalars(
                    insert(ProcessedEvent)
                    .values(
                        [
                            {"consumer_group": self.channels.group, "event_id": event.event_id}
                            for _, event in readable
                        ]
                    )
                    .on_conflict_do_nothing()
                    .returning(ProcessedEvent.event_id)
                )
                new = set(recorded)
                outcomes: list[Outcome] = []
                for message, event in readable:
                    if event.event_id not in new:
                        outcomes.append(Outcome.DUPLICATE)
                        continue
                    new.discard(event.event_id)  # twice in one batch: the second is a duplicate
                    with self.extensions.received(message.headers):
                        await session.run_sync(self._begin_hooks)
                        await self.effect(session, event)
                    outcomes.append(Outcome.PROCESSED)
        except Exception:  # noqa: BLE001 - each message is then handled on its own
            logger.info("a batch failed as a whole; handling its messages one by one")
            return None
        return outcomes

    def _begin_hooks(self, session: Session) -> None:
        connection = session.connection()
        for hook in self.extensions.session_begin:
            hook(connection)

    async def dispose(self, message: Incoming) -> Outcome:
        with self.extensions.received(message.headers):
            attempts = retries.integer(message.headers, retries.ATTEMPTS)
            try:
                event = decode_event(message.body)
            except PoisonMessageError as poison:
                await self.dead_letter(message, poison, attempts + 1)
                return Outcome.DEAD_LETTERED
            tries = 0
            while True:
                try:
                    return Outcome.PROCESSED if await self.apply(event) else Outcome.DUPLICATE
                except Exception as error:  # noqa: BLE001 - every failure is retried, then parked
                    if not await self.database_answers():
                        await self.wait_for_database()
                        continue  # our own outage: not the message's failure
                    tries += 1
                    attempts += 1
                    if tries >= self.settings.messaging_retry_attempts:
                        return await self.park(message, error, attempts)
                    logger.info("event %s failed (%s); retrying", event.event_id,
                                retries.describe(error))  # fmt: skip
                    await asyncio.sleep(self.backoff(tries))

    async def apply(self, event: ItemEvent) -> bool:
        """The effect and the record of it, in one transaction; False if it happened before."""
        async with self.sessions() as session, session.begin():
            recorded = await session.scalar(
                insert(ProcessedEvent)
                .values(consumer_group=self.channels.group, event_id=event.event_id)
                .on_conflict_do_nothing()
                .returning(ProcessedEvent.event_id)
            )
            if recorded is None:
                return False
            await self.effect(session, event)
        return True

    async def park(self, message: Incoming, error: Exception, attempts: int) -> Outcome:
        """After the in-process retries: another round in the retry channel, or the end."""
        rounds = retries.integer(message.headers, retries.ROUND)
        if rounds >= self.settings.messaging_retry_rounds:
            await self.dead_letter(message, error, attempts)
            return Outcome.DEAD_LETTERED
        headers = retries.failure_headers(message, error, attempts)
        headers[retries.ROUND] = str(rounds + 1)
        due = time.time() + self.settings.messaging_retry_delay_seconds
        headers[retries.NOT_BEFORE] = f"{due:.3f}"
        await self.forward(self.channels.retry, message, headers)
        return Outcome.RETRIED

    async def dead_letter(self, message: Incoming, error: Exception, attempts: int) -> None:
        logger.warning("dead-lettering a message of %s after %d attempts: %s", message.channel,
                       attempts, retries.describe(error))  # fmt: skip
        headers = retries.failure_headers(message, error, attempts)
        await self.forward(self.channels.dead_letters, message, headers)

    async def forward(self, channel: str, message: Incoming, headers: dict[str, str]) -> None:
        """Publish to the retry or dead-letter channel, waiting out a broker outage: the
        message is acknowledged only once this returned."""
        key = message.key or message.headers.get(EVENT_ID, "")
        outgoing = Outgoing(key=key, body=message.body, headers=headers)
        failures = 0
        while True:
            try:
                async with asyncio.timeout(self.settings.messaging_publish_timeout_seconds):
                    (error,) = await self.messaging.transport.publish(channel, [outgoing])
            except TimeoutError as timeout:
                error = timeout
            if error is None:
                return
            failures += 1
            logger.warning("cannot publish to %s: %s", channel, retries.describe(error))
            await asyncio.sleep(self.backoff(failures))

    async def until_due(self, message: Incoming) -> None:
        due = retries.not_before(message.headers) - time.time()
        if due > 0:
            await asyncio.sleep(min(due, self.settings.messaging_retry_delay_seconds))

    async def database_answers(self) -> bool:
        try:
            async with self.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not now"
            return False
        return True

    async def wait_for_database(self) -> None:
        waits = 0
        while not await self.database_answers():
            waits += 1
            if waits == 1:
                logger.warning("database unreachable; the consumer waits for it")
            await asyncio.sleep(self.backoff(waits))

    def backoff(self, attempt: int) -> float:
        return retries.backoff_seconds(
            attempt,
            self.settings.messaging_retry_backoff_seconds,
            self.settings.messaging_retry_backoff_max_seconds,
        )
