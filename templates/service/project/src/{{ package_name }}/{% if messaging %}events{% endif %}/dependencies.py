"""The messaging objects of one app (`app.state.messaging`): settings, the broker transport,
the channel names and the counters, the one way to get a usable broker connection, and the
databases the outbox lives in."""

import asyncio
import logging
from dataclasses import dataclass, field
from typing import cast

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..database import build_sessionmaker
from ..extensions import Extensions
from .broker import build_transport
from .channels import Channels, channels_of
from .config import Settings
from .retries import backoff_seconds
from .stats import MessagingStats
from .transport import Transport

logger = logging.getLogger(__name__)

CONNECT_BACKOFF_SECONDS = 0.5


@dataclass(slots=True)
class Messaging:
    settings: Settings
    transport: Transport
    channels: Channels
    stats: MessagingStats = field(default_factory=MessagingStats)
    _connected: asyncio.Event = field(default_factory=asyncio.Event)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _expected: bool = False

    @property
    def ready(self) -> bool:
        return self._connected.is_set()

    @property
    def connection_expected(self) -> bool:
        """Whether anything in this process connects to the broker: a relay runs here (it said
        so at its start, `expect_connection`), or `connect` was called. An API process without
        a relay (MESSAGING_RELAY_ENABLED=false) never connects by itself: waiting for its
        connection would wait for nothing."""
        return self._expected

    def expect_connection(self) -> None:
        """Say that this process will connect (the relay, before its first attempt)."""
        self._expected = True

    async def wait_connected(self) -> None:
        """Return once `connect` has succeeded (at once after that)."""
        await self._connected.wait()

    async def connect(self) -> None:
        """Connect and declare the channels, retrying with backoff until the broker answers.

        Nothing waits on this but the relay, the consumer and the sampler: the API serves (and
        writes to the outbox) whether the broker is up or not.
        """
        self._expected = True
        async with self._lock:
            attempt = 0
            while not self.ready:
                try:
                    async with asyncio.timeout(self.settings.messaging_connect_timeout_seconds):
                        await self.transport.connect()
                        await self.transport.declare(self.channels.all)
                    self._connected.set()
                except Exception as error:  # noqa: BLE001 - any failure: wait and try again
                    attempt += 1
                    delay = backoff_seconds(
                        attempt,
                        CONNECT_BACKOFF_SECONDS,
                        self.settings.messaging_relay_backoff_max_seconds,
                    )
                    log = logger.warning if attempt == 1 else logger.debug
                    log("broker %s unreachable (%s); retrying in %.1fs", self.transport.name,
                        type(error).__name__, delay)  # fmt: skip
                    await asyncio.sleep(delay)
            if attempt:
                logger.info("broker %s reachable again", self.transport.name)


def build_messaging(settings: Settings) -> Messaging:
    return Messaging(settings, build_transport(settings), channels_of(settings))


def messaging_of(app: FastAPI) -> Messaging:
    return cast(Messaging, app.state.messaging)


def sessionmaker_of(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    return cast(async_sessionmaker[AsyncSession], app.state.sessionmaker)


def engine_of(app: FastAPI) -> AsyncEngine:
    return cast(AsyncEngine, app.state.engine)


@dataclass(frozen=True, slots=True)
class OutboxDatabase:
    """A database holding an outbox: its writes' events are published from it."""

    name: str
    """Its name in logs and metric labels ("" for the service's one database: no label)."""
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


def outbox_databases(app: FastAPI) -> list[OutboxDatabase]:
    """Every database an outbox row may be written to: the `primaries` extension point (each
    shard's primary, with sharding: an event commits on the shard of its write), else the
    service's own database."""
    extensions: Extensions = app.state.extensions
    if not extensions.primaries:
        return [OutboxDatabase("", engine_of(app), sessionmaker_of(app))]
    return [
        OutboxDatabase(p.name, p.engine, build_sessionmaker(p.engine, extensions.session_begin))
        for p in extensions.primaries
    ]


def consumer_sessionmaker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    """Where consumers record what they processed, with their effects: one database, so that
    a record and its effect commit together (the service's own database; with sharding, shard
    0's, never a session that could spread one transaction over several shards)."""
    extensions: Extensions = app.state.extensions
    if not extensions.primaries:
        return sessionmaker_of(app)
    return build_sessionmaker(engine_of(app), extensions.session_begin)
