"""The names on the broker: topics on Kafka, queues on RabbitMQ, the same names on both.

    <prefix>items         item events, keyed by item id (the relay publishes here)
    <prefix>items.retry   failed events waiting MESSAGING_RETRY_DELAY_SECONDS for another round
    <prefix>items.dlq     events that failed every round, or could not be read at all

Consumer groups (Kafka; RabbitMQ's queues are their own group): MESSAGING_CONSUMER_GROUP on
`items`, `<group>.retry` on `items.retry`, `<group>.dlq-replay` for the replay command on
`items.dlq`. The retry and dead-letter channels belong to that one consumer: another consumer of
`items` would get channels of its own.
"""

from dataclasses import dataclass

from .config import Settings

RETRY_SUFFIX = ".retry"
DEAD_LETTER_SUFFIX = ".dlq"


@dataclass(frozen=True, slots=True)
class Channels:
    items: str
    retry: str
    dead_letters: str
    group: str
    retry_group: str
    replay_group: str

    @property
    def all(self) -> tuple[str, str, str]:
        return (self.items, self.retry, self.dead_letters)


def channels_of(settings: Settings) -> Channels:
    items = f"{settings.messaging_channel_prefix}items"
    group = settings.messaging_consumer_group
    return Channels(
        items=items,
        retry=items + RETRY_SUFFIX,
        dead_letters=items + DEAD_LETTER_SUFFIX,
        group=group,
        retry_group=group + RETRY_SUFFIX,
        replay_group=group + ".dlq-replay",
    )
