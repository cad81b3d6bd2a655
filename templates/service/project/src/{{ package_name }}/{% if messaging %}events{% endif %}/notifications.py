"""The notification worker: `python -m <package>.worker notifications`.

Its effect is a row in `messaging_notifications` per item event, written in the transaction
that records the event as processed, so it exists exactly once per event. A service that sends
real notifications (email, push) puts them in such a table and lets a sender deliver them, or
calls the provider with `event_id` as the idempotency key: a call outside the transaction can
be repeated by a redelivery, a row inside it cannot.
"""

from fastapi import FastAPI
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .consumer import Consumer, Effect
from .dependencies import consumer_sessionmaker, messaging_of
from .models import Notification
from .schemas import ItemEvent

VERBS = {"item.created": "created", "item.updated": "updated", "item.deleted": "deleted"}


def notification_text(event: ItemEvent) -> str:
    return f"Item {event.data.name!r} was {VERBS[event.type]}."


async def notify(session: AsyncSession, event: ItemEvent) -> None:
    await session.execute(
        insert(Notification).values(
            event_id=event.event_id,
            item_id=event.aggregate_id,
            event_type=event.type,
            message=notification_text(event),
        )
    )


def notification_consumer(app: FastAPI, effect: Effect = notify) -> Consumer:
    return Consumer(messaging_of(app), consumer_sessionmaker(app), app.state.extensions, effect)


async def run_notifications(app: FastAPI) -> None:
    await notification_consumer(app).run()
