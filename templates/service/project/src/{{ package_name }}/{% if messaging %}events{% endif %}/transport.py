"""The broker behind one small interface: everything else in `events/` is the same code for
Kafka and RabbitMQ.

A `Transport` publishes batches and waits for the broker to confirm each message, consumes in
batches that are acknowledged only when the consumer says so, declares the channels, and says
how many messages wait in one. `broker.py` names this service's implementation (`kafka.py` or
`rabbitmq.py`, whichever broker was chosen); the other is left out, with its client library.
Why not FastStream: see the README.
"""

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Outgoing:
    key: str
    """Messages with one key keep their order (Kafka: one partition)."""
    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Incoming:
    channel: str
    body: bytes
    headers: Mapping[str, str]
    key: str | None = None
    coordinates: Mapping[str, str] = field(default_factory=dict)
    """Where the broker had it: topic, partition and offset; or queue, exchange, routing key."""


class Batch(Protocol):
    @property
    def messages(self) -> Sequence[Incoming]: ...

    async def settle(self) -> None:
        """Acknowledge every message of the batch (Kafka: commit; RabbitMQ: ack)."""


class Consumption(Protocol):
    async def next_batch(self, wait_seconds: float, limit: int | None = None) -> Batch:
        """The next messages in order, up to the batch size (and `limit`); empty after
        `wait_seconds` without any."""


class Transport(Protocol):
    name: str
    """`kafka` or `rabbitmq`."""
    protocol: str
    """The AsyncAPI protocol name: `kafka` or `amqp`."""

    @property
    def connected(self) -> bool: ...

    async def connect(self) -> None:
        """One attempt; raises when the broker cannot be reached."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Returns when the broker answers; raises otherwise."""

    async def declare(self, channels: Sequence[str]) -> None:
        """Create the channels if they do not exist (idempotent)."""

    async def publish(
        self, channel: str, messages: Sequence[Outgoing]
    ) -> list[BaseException | None]:
        """Publish all, then wait for the broker's confirmation of each: None, or its error."""

    def consume(
        self, channel: str, group: str, batch_size: int
    ) -> AbstractAsyncContextManager[Consumption]: ...

    async def depth(self, channel: str, group: str) -> int:
        """Messages in `channel` that `group` has not acknowledged yet (the consumer lag)."""

    async def delete(self, channels: Sequence[str]) -> None:
        """Remove the channels and what they hold (tests clean up their own)."""
