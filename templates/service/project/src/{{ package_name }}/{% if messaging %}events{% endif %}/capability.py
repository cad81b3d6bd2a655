"""Messaging in the capability protocol: the broker transport on `app.state.messaging`, its
readiness check (not critical: writes go to the outbox whether the broker is up or not), the
outbox hook on item writes, the relay and the metrics sampler in every API process, the
notification consumer as a worker of its own, and the AsyncAPI document."""

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..capability import Capability, Metric, Process
from ..extensions import Extensions
from ..health.checks import ReadinessCheck
from .dependencies import build_messaging, messaging_of
from .notifications import run_notifications
from .outbox import outbox_writer
from .relay import run_relay
from .resharding import move_unpublished
from .router import router
from .sampler import sample_metrics


@asynccontextmanager
async def messaging(app: FastAPI) -> AsyncIterator[None]:
    """The transport is made here and connects in the background (the relay, the consumer):
    the app starts, and serves, while the broker is down."""
    app.state.messaging = state = build_messaging(app.state.settings)
    try:
        yield
    finally:
        await state.transport.close()


def readiness(app: FastAPI) -> Iterable[ReadinessCheck]:
    state = messaging_of(app)

    async def broker_answers() -> None:
        # Just after start the relay's first connection may still be on its way: wait for it
        # (the check's timeout bounds the wait) instead of failing a broker about to answer.
        # A process that never connects (no relay) has no connection to wait for: the ping
        # says at once that it is not connected.
        if state.connection_expected:
            await state.wait_connected()
        await state.transport.ping()

    return (ReadinessCheck(name=state.transport.name, probe=broker_answers, critical=False),)


def metrics(app: FastAPI) -> Iterable[Metric]:
    return messaging_of(app).stats.metrics()


def extend(extensions: Extensions) -> None:
    extensions.items.writing.append(outbox_writer(extensions))
    extensions.moved_with_buckets.append(move_unpublished)


CAPABILITY = Capability(
    name="messaging",
    lifespan=messaging,
    readiness=readiness,
    routers=(router,),
    processes=(
        Process("outbox-relay", run_relay, in_app=True),
        Process("messaging-metrics", sample_metrics, in_app=True),
        Process("notifications", run_notifications),
    ),
    metrics=metrics,
    extend=extend,
)
