"""What messaging did in this process, and what the sampler last saw: read at scrape time.

Counters are plain integers (the event loop runs one coroutine at a time), per process, reset
on restart: the API process counts what its relay published, a worker what it consumed. The
gauges (outbox backlog per outbox database, consumer lag, dead letters) are sampled every
MESSAGING_METRICS_INTERVAL_SECONDS by the API process, so a scrape never waits for the database
or the broker; None until the first sample (or while the broker is unreachable).
"""

from dataclasses import dataclass, field

from ..capability import Metric, Sample

OUTCOMES = ("processed", "duplicate", "retried", "dead_lettered")
GAUGE_HELP = {
    "backlog": "Events committed but not yet published.",
    "age": "Age in seconds of the oldest unpublished event.",
    "lag": "Messages waiting for the notification consumer.",
    "dead": "Messages in the dead-letter channel, not yet replayed.",
}


def database_label(name: str) -> dict[str, str]:
    """`database="shard_1"` with several outbox databases; no label with the one."""
    return {"database": name} if name else {}


@dataclass(slots=True)
class MessagingStats:
    published: int = 0
    """Events the broker confirmed (relay)."""
    publish_failures: int = 0
    """Events the broker refused or did not confirm in time; each is retried later."""
    consumed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    """Messages the consumer disposed of, by outcome."""
    outbox_backlog: dict[str, tuple[int, float]] = field(default_factory=dict)
    """Per outbox database (see `dependencies.outbox_databases`): unpublished events and the
    age of the oldest; a database is missing until sampled (or while it does not answer)."""
    consumer_lag: int | None = None
    dead_letters: int | None = None

    def metrics(self) -> list[Metric]:
        found = [
            Metric(
                "messaging_published_total",
                "counter",
                "Events published by the outbox relay and confirmed by the broker.",
                (Sample({}, self.published),),
            ),
            Metric(
                "messaging_publish_failures_total",
                "counter",
                "Publish attempts the broker refused or did not confirm in time.",
                (Sample({}, self.publish_failures),),
            ),
            Metric(
                "messaging_consumed_total",
                "counter",
                "Messages the consumer disposed of, by outcome.",
                tuple(Sample({"outcome": o}, n) for o, n in self.consumed.items()),
            ),
        ]
        backlog = self.outbox_backlog.items()
        if backlog:
            found += [
                Metric("messaging_outbox_backlog", "gauge", GAUGE_HELP["backlog"],
                       tuple(Sample(database_label(d), n) for d, (n, _) in backlog)),
                Metric("messaging_outbox_oldest_age_seconds", "gauge", GAUGE_HELP["age"],
                       tuple(Sample(database_label(d), age) for d, (_, age) in backlog)),
            ]  # fmt: skip
        gauges = {
            "messaging_consumer_lag": (GAUGE_HELP["lag"], self.consumer_lag),
            "messaging_dead_letters": (GAUGE_HELP["dead"], self.dead_letters),
        }
        for name, (help_text, value) in gauges.items():
            if value is not None:
                found.append(Metric(name, "gauge", help_text, (Sample({}, value),)))
        return found
