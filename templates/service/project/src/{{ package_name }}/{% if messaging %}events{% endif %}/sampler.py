"""Samples the gauges of `stats.py` in the background (an in-app process), so that reading the
metrics costs nothing: the outbox backlog from the database, the consumer lag and the
dead letters from the broker (once the relay has connected to it)."""

import asyncio
import logging

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from . import outbox
from .dependencies import Messaging, messaging_of, sessionmaker_of
from .retries import describe

logger = logging.getLogger(__name__)


async def refresh(messaging: Messaging, sessions: async_sessionmaker[AsyncSession]) -> None:
    stats = messaging.stats
    try:
        async with sessions() as session:
            stats.outbox_backlog, stats.outbox_oldest_seconds = await outbox.backlog(session)
    except Exception as error:  # noqa: BLE001 - unknown until the next sample
        stats.outbox_backlog = stats.outbox_oldest_seconds = None
        logger.debug("outbox backlog not sampled: %s", describe(error))
    if not messaging.ready:
        return
    channels, transport = messaging.channels, messaging.transport
    try:
        stats.consumer_lag = await transport.depth(channels.items, channels.group)
        stats.dead_letters = await transport.depth(channels.dead_letters, channels.replay_group)
    except Exception as error:  # noqa: BLE001 - unknown until the next sample
        stats.consumer_lag = stats.dead_letters = None
        logger.debug("broker gauges not sampled: %s", describe(error))


async def sample_metrics(app: FastAPI) -> None:
    messaging, sessions = messaging_of(app), sessionmaker_of(app)
    while True:
        with app.state.extensions.untraced_work():  # a sample is no request's work
            await refresh(messaging, sessions)
        await asyncio.sleep(messaging.settings.messaging_metrics_interval_seconds)
