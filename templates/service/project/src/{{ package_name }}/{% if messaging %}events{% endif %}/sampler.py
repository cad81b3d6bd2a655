"""Samples the gauges of `stats.py` in the background (an in-app process), so that reading the
metrics costs nothing: the outbox backlog from each outbox database, the consumer lag and the
dead letters from the broker (once the relay has connected to it)."""

import asyncio
import logging
from collections.abc import Sequence

from fastapi import FastAPI

from . import outbox
from .dependencies import Messaging, OutboxDatabase, messaging_of, outbox_databases
from .retries import describe

logger = logging.getLogger(__name__)


async def refresh(messaging: Messaging, databases: Sequence[OutboxDatabase]) -> None:
    stats = messaging.stats
    for database in databases:
        try:
            async with database.sessions() as session:
                stats.outbox_backlog[database.name] = await outbox.backlog(session)
        except Exception as error:  # noqa: BLE001 - unknown until the next sample
            stats.outbox_backlog.pop(database.name, None)
            logger.debug("outbox backlog %r not sampled: %s", database.name, describe(error))
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
    messaging, databases = messaging_of(app), outbox_databases(app)
    while True:
        with app.state.extensions.untraced_work():  # a sample is no request's work
            await refresh(messaging, databases)
        await asyncio.sleep(messaging.settings.messaging_metrics_interval_seconds)
