"""Reading traces back from the OpenTelemetry Collector's file of spans."""

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from .servers import SpanLog, collector_spans

Span = dict[str, Any]
SERVER, CLIENT, CONSUMER = 2, 3, 5  # OTLP SpanKind values


def attributes(span: Span) -> dict[str, Any]:
    return {a["key"]: next(iter(a["value"].values()), None) for a in span.get("attributes", [])}


def flush(app: FastAPI) -> None:
    """Export what the app's provider still buffers (the batch processor waits otherwise)."""
    provider = app.state.telemetry.tracer_provider
    assert provider is not None
    assert provider.force_flush(timeout_millis=10_000)


def wait_for_spans(
    spans_file: SpanLog,
    service_name: str,
    done: Callable[[list[Span]], bool],
    seconds: float = 15,
) -> list[Span]:
    """The service's spans in the collector's file, once `done` says they are all there."""
    deadline = time.monotonic() + seconds
    while True:
        spans = collector_spans(spans_file, **{"service.name": service_name})
        if done(spans):
            return spans
        if time.monotonic() > deadline:
            names = sorted({s["name"] for s in spans})
            pytest.fail(f"the collector has {len(spans)} spans of {service_name}: {names}")
        time.sleep(0.1)


def ancestors(span: Span, by_id: dict[str, Span]) -> list[Span]:
    """The span's parents, nearest first, as far as the trace has them."""
    chain = []
    parent = by_id.get(span.get("parentSpanId", ""))
    while parent is not None:
        chain.append(parent)
        parent = by_id.get(parent.get("parentSpanId", ""))
    return chain


def is_sql(span: Span) -> bool:
    found = attributes(span)
    return span["kind"] == CLIENT and "postgresql" in {
        found.get("db.system"),
        found.get("db.system.name"),
    }
