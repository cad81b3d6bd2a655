"""Print the outbox relay's throughput next to a bare producer's, and the commit-to-effect
latency, on Kafka and on RabbitMQ, same run.

Run (services up: `eval "$(scripts/services env)"`, with KAFKA_BOOTSTRAP_SERVERS and
RABBITMQ_URL):

    .venv/bin/python benchmarks/messaging_relay.py [--events 5000] [--rounds 3]
        [--latency-events 500] [--rate 200] [--brokers kafka,rabbitmq] [--baseline-concurrency N]
        [--baseline-template DIR] [--baseline-setting NAME=VALUE ...]

For each broker a project with `messaging` on it is rendered through `scaffold new`'s code
path and run with the matrix's shared environment, on a fresh database of the PostgreSQL at
DATABASE_URL, with topics/queues under a random prefix (deleted afterwards). Then, in a child
process of that environment:

- relay: `--events` events are committed to the outbox (the relay off); then the relay drains
  it as in production (MESSAGING_RELAY_CONCURRENCY rounds in flight, each: claim a batch,
  publish it, wait for the broker's confirmation of each event, mark them published, commit).
  Events per second from the first claim to the last commit.
- bare producer: the same payloads, keys and headers, published with the broker's client alone
  (aiokafka with the same producer settings, everything sent then every acknowledgement awaited;
  aio-pika on a channel with publisher confirms, every publish in flight at once), no database.
- the two alternate, `--rounds` times each; the target is relay >= 50% of the bare producer.
- baseline: each round also drains the same number of events another way, printed beside the
  relay (old against new, same run, alternating):
  `--baseline-concurrency N`: with N rounds in flight instead of the setting's;
  `--baseline-setting NAME=VALUE` (repeatable): with these messaging settings changed;
  `--baseline-template DIR`: with the relay of a project rendered from another template
  (e.g. `/work/main/templates/service`, or a `git worktree` of an older commit), package
  `bench_base`, on the same database, broker, connections and settings.
- CPU: the benchmark process's CPU time per event (`time.process_time()`) for each of the
  above: the relay's own work (row decoding, the broker client) without PostgreSQL's or the
  broker's; steadier than the rates on a shared machine.
- latency: the relay runs in the app (woken by NOTIFY) and the notification worker in a process
  of its own; items are created at `--rate` per second; for each, the time from its commit
  returning to its notification row being inserted (PostgreSQL's clock_timestamp()).

Numbers only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROJECT, PACKAGE = "bench-svc", "bench_svc"
BROKER_VARIABLES = {"kafka": "KAFKA_BOOTSTRAP_SERVERS", "rabbitmq": "RABBITMQ_URL"}
NOTIFIED_AT = "SELECT item_id::text, extract(epoch FROM created_at) FROM messaging_notifications"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="events per throughput round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of relay and bare producer")
    parser.add_argument("--latency-events", type=int, default=500, help="items for the latency")
    parser.add_argument("--rate", type=float, default=200, help="items created per second")
    parser.add_argument("--brokers", default="kafka,rabbitmq", help="comma-separated")
    parser.add_argument(
        "--baseline-concurrency", type=int, default=0, help="also measure the relay with this"
    )
    parser.add_argument(
        "--baseline-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="also measure the relay with this messaging setting (repeatable)",
    )
    parser.add_argument(
        "--baseline-template", default="", help="also measure the relay of this template"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        result = asyncio.run(measure(options))
        sys.stdout.write("RESULT " + json.dumps(result) + "\n")
        return
    brokers = options.brokers.split(",")
    for name in ["DATABASE_URL", *(BROKER_VARIABLES[b] for b in brokers)]:
        if not os.environ.get(name):
            sys.exit(f'{name} is not set: run `eval "$(scripts/services env)"`')
    results = {broker: run_broker(broker, options) for broker in brokers}
    report(results, options)


def run_broker(broker: str, options: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.matrix.runtime_checks import fresh_database
    from tests.support.render import project_and_python

    with tempfile.TemporaryDirectory(prefix="messaging-bench-") as scratch:
        variants = {"messaging_broker": broker}
        project, python = project_and_python(Path(scratch), PROJECT, ("messaging",), variants)
        source = [project / "src"]
        if options.baseline_template:
            source.append(render_baseline(Path(scratch), options.baseline_template, broker))
        database = f"messaging_bench_{secrets.token_hex(4)}"
        with fresh_database(os.environ["DATABASE_URL"], database) as url:
            prefix = f"bench_{secrets.token_hex(4)}."
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "PYTHONPATH": os.pathsep.join(map(str, source)),
                "PYTHONDONTWRITEBYTECODE": "1",
                "LOG_LEVEL": "WARNING",
                "MESSAGING_CHANNEL_PREFIX": prefix,
                "MESSAGING_CONSUMER_GROUP": f"{prefix}notifications",
                "MESSAGING_RELAY_ENABLED": "false",
                "KAFKA_REPLICATION_FACTOR": "1",
            }
            env.pop("VIRTUAL_ENV", None)
            migrate = [str(python), "-m", "alembic", "upgrade", "heads"]
            subprocess.run(migrate, cwd=project, env=env, check=True)
            arguments = [
                f"--{name.replace('_', '-')}={value}"
                for name, value in vars(options).items()
                if name not in ("child", "brokers", "baseline_setting")
            ]
            arguments += [f"--baseline-setting={s}" for s in options.baseline_setting]
            child = [str(python), __file__, "--child", *arguments]
            done = subprocess.run(
                child, cwd=project, env=env, check=True, stdout=subprocess.PIPE, text=True
            )
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return dict(json.loads(line.removeprefix("RESULT ")))


def render_baseline(scratch: Path, template: str, broker: str) -> Path:
    """The baseline's project (package `bench_base`) from another template; its `src`."""
    from scaffold.commands.new import NewOptions, create_project
    from scaffold.selection import Request

    request = Request(with_=("messaging",), variants={"messaging_broker": broker})
    options = NewOptions("bench-base", scratch, request, template=template, git=False, lock=False)
    return create_project(options).target / "src"


def baseline_changes(options: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if options.baseline_concurrency:
        changes["messaging_relay_concurrency"] = options.baseline_concurrency
    for setting in options.baseline_setting:
        name, _, value = setting.partition("=")
        changes[name.lower()] = value
    return changes


def baseline_label(options: argparse.Namespace) -> str:
    parts = [f"template {options.baseline_template}"] if options.baseline_template else []
    parts += [f"{name}={value}" for name, value in baseline_changes(options).items()]
    return ", ".join(parts)


async def measure(options: argparse.Namespace) -> dict[str, Any]:
    """In the project's environment: both throughputs, alternating, then the latency."""
    from bench_svc.config import Settings
    from bench_svc.events.dependencies import messaging_of, sessionmaker_of
    from bench_svc.main import create_app

    app = create_app(Settings())
    async with app.router.lifespan_context(app):
        messaging, sessions = messaging_of(app), sessionmaker_of(app)
        await messaging.connect()
        relay_rates, bare_rates, baseline_rates = [], [], []
        cpu: dict[str, list[float]] = {"relay": [], "bare": [], "baseline": []}
        changes = baseline_changes(options)
        for _ in range(options.rounds):
            if changes or options.baseline_template:
                await fill_outbox(app, options.events)
                rate, used = await relay_rate(
                    messaging, sessions, options.events, changes, bool(options.baseline_template)
                )
                baseline_rates.append(rate)
                cpu["baseline"].append(used)
            payloads = await fill_outbox(app, options.events)
            rate, used = await relay_rate(messaging, sessions, options.events)
            relay_rates.append(rate)
            cpu["relay"].append(used)
            rate, used = await bare_rate(messaging, payloads)
            bare_rates.append(rate)
            cpu["bare"].append(used)
        latencies = await latency(options)
        await messaging.transport.delete(messaging.channels.all)
    return {
        "broker": messaging.transport.name,
        "relay": relay_rates,
        "bare": bare_rates,
        "baseline": baseline_rates,
        "cpu_us": cpu,
        "latency_ms": latencies,
    }


async def fill_outbox(app: Any, count: int) -> list[Any]:
    """Commit `count` item.created events to the outbox, 500 per transaction; return them as
    the relay will publish them (the same bytes, keys and headers)."""
    from bench_svc.events.outbox import add_event, claim, event_of
    from bench_svc.events.relay import driver_connection
    from bench_svc.items.hooks import ItemChange
    from bench_svc.items.schemas import ItemRead

    now = datetime.now(UTC)
    for start in range(0, count, 500):
        async with app.state.sessionmaker() as session, session.begin():
            for n in range(start, min(start + 500, count)):
                item = ItemRead(
                    id=uuid.uuid4(), name=f"item {n}", description="bench", created_at=now
                )
                await add_event(session, event_of(ItemChange("created", item)))
    async with driver_connection(app.state.sessionmaker) as connection:
        async with connection.transaction():
            batch = await claim(connection, count, [])
        return list(batch.pending) if batch else []


async def relay_rate(
    messaging: Any,
    sessions: Any,
    count: int,
    changes: dict[str, Any] | None = None,
    baseline_template: bool = False,
) -> tuple[float, float]:
    """Events per second, and this process's CPU microseconds per event."""
    if baseline_template:
        from bench_base.events.relay import Relay  # the other template's relay
    else:
        from bench_svc.events.relay import Relay

    relay = Relay(messaging, sessions)
    if changes:  # validated as the settings would be
        settings = relay.settings
        relay.settings = settings.model_validate({**settings.model_dump(), **changes})
    started, cpu = time.perf_counter(), time.process_time()
    published = await relay.drain()
    assert published == count, f"the relay published {published} of {count}"
    return count / (time.perf_counter() - started), per_event(cpu, count)


def per_event(cpu_started: float, count: int) -> float:
    return (time.process_time() - cpu_started) / count * 1e6


async def bare_rate(messaging: Any, messages: list[Any]) -> tuple[float, float]:
    """The same messages through the broker's client alone: no database, no outbox (events per
    second, and CPU microseconds per event)."""
    channel, settings = messaging.channels.items, messaging.settings
    if messaging.transport.name == "kafka":
        from aiokafka import AIOKafkaProducer
        from bench_svc.events.kafka import producer_config

        producer = AIOKafkaProducer(**producer_config(settings))
        await producer.start()
        try:
            started, cpu = time.perf_counter(), time.process_time()
            futures = [
                await producer.send(
                    channel,
                    m.body,
                    key=m.key.encode(),
                    headers=[(k, v.encode()) for k, v in m.headers.items()],
                )
                for m in messages
            ]
            await asyncio.gather(*futures)
            return len(messages) / (time.perf_counter() - started), per_event(cpu, len(messages))
        finally:
            await producer.stop()
    import aio_pika

    connection = await aio_pika.connect(settings.rabbitmq_url)
    try:
        exchange = (await connection.channel(publisher_confirms=True)).default_exchange
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(
            *(
                exchange.publish(
                    aio_pika.Message(
                        m.body,
                        headers=dict(m.headers),
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key=channel,
                    mandatory=True,
                )
                for m in messages
            )
        )
        return len(messages) / (time.perf_counter() - started), per_event(cpu, len(messages))
    finally:
        await connection.close()


async def latency(options: argparse.Namespace) -> list[float]:
    """Commit-to-notification milliseconds, the relay in the app and the worker a process."""
    from bench_svc.config import Settings
    from bench_svc.items import service
    from bench_svc.items.schemas import ItemCreate
    from bench_svc.main import create_app
    from sqlalchemy import text

    # Channels of their own: the worker must not first work through the throughput rounds.
    prefix = os.environ["MESSAGING_CHANNEL_PREFIX"] + "latency."
    names = {"MESSAGING_CHANNEL_PREFIX": prefix, "MESSAGING_CONSUMER_GROUP": f"{prefix}worker"}
    command = [sys.executable, "-m", f"{PACKAGE}.worker", "notifications"]
    worker = subprocess.Popen(command, env={**os.environ, **names})
    settings = Settings(messaging_relay_enabled=True, **{k.lower(): v for k, v in names.items()})
    app = create_app(settings)
    committed: dict[str, float] = {}
    try:
        async with app.router.lifespan_context(app):
            writing = app.state.extensions.items.writing
            sessions = app.state.sessionmaker
            async with sessions() as session:  # the worker is up once this one is notified
                await service.create(
                    db_session=session, writing=writing, item_in=ItemCreate(name="warm-up")
                )
            while await notified_count(sessions, text) < 1:
                await asyncio.sleep(0.1)
            started = time.perf_counter()
            for n in range(options.latency_events):
                async with sessions() as session:
                    item_in = ItemCreate(name=f"latency {n}")
                    item = await service.create(
                        db_session=session, item_in=item_in, writing=writing
                    )
                committed[str(item.id)] = time.time()
                pause = started + (n + 1) / options.rate - time.perf_counter()
                await asyncio.sleep(max(pause, 0))
            deadline = time.monotonic() + 120
            while await notified_count(sessions, text) < len(committed) + 1:
                assert time.monotonic() < deadline, "the worker did not catch up in 120 s"
                await asyncio.sleep(0.1)
            async with sessions() as session:
                rows = await session.execute(text(NOTIFIED_AT))
                latencies = sorted(
                    (float(at) - committed[item]) * 1000 for item, at in rows if item in committed
                )
            await app.state.messaging.transport.delete(app.state.messaging.channels.all)
            return latencies
    finally:
        worker.terminate()
        worker.wait(timeout=30)


async def notified_count(sessions: Any, text: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(text("SELECT count(*) FROM messaging_notifications")))


def report(results: dict[str, dict[str, Any]], options: argparse.Namespace) -> None:
    print(
        f"\n{options.events} events per throughput round, {options.rounds} rounds; "
        f"latency over {options.latency_events} items at {options.rate:g}/s"
    )
    print(
        f"{'broker':<9} {'relay ev/s':>11} {'bare ev/s':>10} {'ratio':>6} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    )
    for broker, result in results.items():
        relay, bare = statistics.median(result["relay"]), statistics.median(result["bare"])
        lat = result["latency_ms"]
        q = statistics.quantiles(lat, n=100)
        print(
            f"{broker:<9} {relay:>11.0f} {bare:>10.0f} {relay / bare:>6.0%} "
            f"{q[49]:>7.1f} {q[94]:>7.1f} {q[98]:>7.1f} {lat[-1]:>7.1f}"
        )
        print(
            f"          rounds: relay {[round(r) for r in result['relay']]}, "
            f"bare {[round(b) for b in result['bare']]}"
        )
        cpu = {name: statistics.median(v) for name, v in result["cpu_us"].items() if v}
        print(
            "          CPU of the benchmark's process, µs per event (median): "
            + ", ".join(f"{name} {value:.1f}" for name, value in cpu.items())
        )
        if result["baseline"]:
            baseline = statistics.median(result["baseline"])
            print(
                f"          baseline ({baseline_label(options)}): "
                f"{baseline:.0f} ev/s, {baseline / bare:.0%} of bare, "
                f"rounds {[round(b) for b in result['baseline']]}"
            )


if __name__ == "__main__":
    main()
