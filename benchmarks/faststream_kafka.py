# /// script
# requires-python = ">=3.11"
# dependencies = ["faststream[kafka]==0.7.8", "aiokafka==0.14.0"]
# ///
"""Print what FastStream costs on Kafka next to aiokafka alone, same run: the measurements behind
"Why not FastStream" in docs/capabilities/messaging.md.

Run (services up: `eval "$(scripts/services env)"`, with KAFKA_BOOTSTRAP_SERVERS; uv builds the
two libraries' environment from the header above, apart from the project's):

    uv run benchmarks/faststream_kafka.py [--messages 5000] [--acked 2000] [--rounds 3]

- publish: `--messages` messages (the outbox's shape: a key, two headers, a JSON body), with the
  settings `messaging`'s producer uses (acks=all, idempotence, linger 5 ms), every one confirmed:
  aiokafka sending all then awaiting every acknowledgement; FastStream's
  `publish(..., no_confirm=True)` then awaiting the futures; FastStream's `publish` awaited,
  all at once (`asyncio.gather`).
- consume: `--acked` messages read back by a consumer group from the earliest offset, each
  handled once: FastStream's subscriber with `AckPolicy.ACK` (after every message its `ack()`
  commits the group's offsets), against aiokafka's `getmany` and one commit per batch (what
  `messaging`'s consumer does).

Messages per second, the median of `--rounds`. Numbers only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

PRODUCER = {"acks": "all", "enable_idempotence": True, "linger_ms": 5}
Message = tuple[bytes, bytes, list[tuple[str, bytes]]]


def messages(count: int) -> list[Message]:
    found = []
    for n in range(count):
        aggregate = str(uuid.uuid4())
        body = {"event_id": str(uuid.uuid4()), "type": "item.created", "version": 1,
                "data": {"id": aggregate, "name": f"item {n}", "price_cents": n}}  # fmt: skip
        headers = [("event-type", b"item.created"), ("event-version", b"1")]
        found.append((aggregate.encode(), json.dumps(body).encode(), headers))
    return found


async def aiokafka_publish(servers: str, topic: str, batch: list[Message]) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=servers, **PRODUCER)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await producer.send(topic, body, key=key, headers=headers)
                   for key, body, headers in batch]  # fmt: skip
        await asyncio.gather(*futures)
        return len(batch) / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def faststream_publish(servers: str, topic: str, batch: list[Message], wait: bool) -> float:
    broker = KafkaBroker(servers, logger=None, **PRODUCER)  # type: ignore[arg-type]
    await broker.start()
    try:
        started = time.perf_counter()
        if wait:
            await asyncio.gather(*(broker.publish(body, topic, key=key, headers=dict_of(headers))
                                   for key, body, headers in batch))  # fmt: skip
        else:
            futures = [await broker.publish(body, topic, key=key, headers=dict_of(headers),
                                            no_confirm=True)
                       for key, body, headers in batch]  # fmt: skip
            await asyncio.gather(*futures)
        return len(batch) / (time.perf_counter() - started)
    finally:
        await broker.stop()


def dict_of(headers: list[tuple[str, bytes]]) -> dict[str, str]:
    return {name: value.decode() for name, value in headers}


async def aiokafka_consume(servers: str, topic: str, count: int) -> float:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=servers, group_id=f"g-{uuid.uuid4()}",
                                enable_auto_commit=False, auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    try:
        seen, started = 0, time.perf_counter()
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            seen += sum(len(records) for records in batches.values())
            await consumer.commit()
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def faststream_consume(servers: str, topic: str, count: int) -> float:
    broker = KafkaBroker(servers, logger=None)  # no log line per message
    done, seen = asyncio.Event(), 0

    @broker.subscriber(topic, group_id=f"g-{uuid.uuid4()}", auto_offset_reset="earliest",
                       ack_policy=AckPolicy.ACK)  # fmt: skip
    async def handle(body: dict[str, object]) -> None:
        nonlocal seen
        seen += 1
        if seen >= count:
            done.set()

    started = time.perf_counter()
    await broker.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=120)
        return count / (time.perf_counter() - started)
    finally:
        await broker.stop()


async def main(options: argparse.Namespace) -> None:
    servers = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"bench-faststream-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    batch = messages(options.messages)
    ways: dict[str, Callable[[], Awaitable[float]]] = {
        "publish, aiokafka": lambda: aiokafka_publish(servers, topic, batch),
        "publish, FastStream no_confirm": lambda: faststream_publish(servers, topic, batch, False),
        "publish, FastStream awaited": lambda: faststream_publish(servers, topic, batch, True),
        "consume, aiokafka batch commit": lambda: aiokafka_consume(servers, topic, options.acked),
        "consume, FastStream ack each": lambda: faststream_consume(servers, topic, options.acked),
    }
    rates: dict[str, list[float]] = {name: [] for name in ways}
    try:
        for round_ in range(options.rounds):
            for name, way in ways.items():
                rates[name].append(await way())
                print(f"round {round_ + 1}, {name:<32} {rates[name][-1]:>9,.0f} msg/s", flush=True)
    finally:
        await admin.delete_topics([topic])
        await admin.close()
    print(f"\nKafka at {servers}, {options.messages} messages published, {options.acked} consumed, "
          f"median of {options.rounds} rounds:")  # fmt: skip
    for name, values in rates.items():
        print(f"  {name:<32} {statistics.median(values):>9,.0f} msg/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--acked", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
