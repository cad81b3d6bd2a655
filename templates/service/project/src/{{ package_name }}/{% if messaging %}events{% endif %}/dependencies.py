"""The messaging objects of one app (`app.state.messaging`): settings, the broker transport,
the channel names and the counters, and the one way to get a usable broker connection."""

import asyncio
import logging
from dataclasses import dataclass, field
from typing import cast

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

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

    @property
    def ready(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self) -> None:
        """Return once `connect` has succeeded (at once after that)."""
        await self._connected.wait()

    async def connect(self) -> None:
        """Connect and declare the channels, retrying with backoff until the broker answers.

        Nothing waits on this but the relay, the consumer and the sampler: the API serves (and
        writes to the outbox) whether the broker is up or not.
        """
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
