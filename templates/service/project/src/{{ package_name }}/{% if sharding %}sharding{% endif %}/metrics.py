"""Sharding's metric families, read when metrics are scraped (see `capability.Metric`)."""

from collections.abc import Iterable
from typing import Literal

from fastapi import FastAPI

from ..capability import Metric, Sample
from .runtime import sharding_of


def _family(
    name: str, kind: Literal["counter", "gauge"], text: str, samples: Iterable[Sample]
) -> Metric:
    return Metric(name, kind, text, tuple(samples))


def metrics(app: FastAPI) -> Iterable[Metric]:
    runtime = sharding_of(app)
    trackers = [tracker for found in runtime.trackers.values() for tracker in found]
    stats = runtime.stats
    return (
        _family(
            "sharding_replica_lag_seconds",
            "gauge",
            "Age of the oldest primary WAL position the replica has not replayed.",
            (
                Sample({"replica": t.name}, t.lag_seconds)
                for t in trackers
                if t.lag_seconds is not None
            ),
        ),
        _family(
            "sharding_replica_usable",
            "gauge",
            "1 while reads may go to the replica (it answers, within the lag bound).",
            (Sample({"replica": t.name}, float(t.usable())) for t in trackers),
        ),
        _family(
            "sharding_read_sessions_total",
            "counter",
            "Sessions of read-only requests, by shard and server (primary or replica).",
            (
                Sample({"shard": str(s.number), "server": server}, stats.reads[s.number, server])
                for s in runtime.shards
                for server in ("primary", "replica")[: 2 if s.replicas else 1]
            ),
        ),
        _family(
            "sharding_write_sessions_total",
            "counter",
            "Other sessions (writes, work outside requests), on the shard's primary.",
            (Sample({"shard": str(s.number)}, stats.writes[s.number]) for s in runtime.shards),
        ),
        _family(
            "sharding_fan_outs_total",
            "counter",
            "ORM statements that named no shard and so ran on every shard.",
            (Sample({}, stats.fan_outs),),
        ),
        _family(
            "sharding_list_failures_total",
            "counter",
            "Lists refused because a shard failed or did not answer in time.",
            (
                Sample({"shard": str(s.number)}, stats.list_failures[s.number])
                for s in runtime.shards
            ),
        ),
        _family(
            "sharding_replica_fallbacks_total",
            "counter",
            "Reads retried on the primary after their replica failed.",
            (Sample({}, stats.replica_fallbacks),),
        ),
        _family(
            "sharding_fence_waits_total",
            "counter",
            "Writes retried while resharding moved their bucket.",
            (Sample({}, stats.fence_waits),),
        ),
        _family(
            "sharding_map_version",
            "gauge",
            "Version of the shard map in use.",
            (Sample({}, runtime.shard_map().version),) if runtime.map_loaded else (),
        ),
    )
