"""The trace beyond HTTP: on log lines, and across messages.

- `trace_log_fields`: `trace_id` and `span_id` of the current span on every JSON log line (the
  `log_fields` extension point), so a trace leads to its log lines and back.
- `trace_headers` / `continue_trace`: the `message_headers` and `message_received` extension
  points. A message published inside a trace carries its W3C `traceparent` (and `tracestate`,
  `baggage`) in its headers; handling it continues that trace in a CONSUMER span. With an
  outbox, the headers are stored with the event in the request's transaction, so the request,
  the relay that publishes it and the consumer that handles it share one trace.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context, propagate, trace

from .tracing import APP_TRACERS

_tracer = APP_TRACERS.get_tracer(__name__)
CONSUMER_SPAN_NAME = "process message"


def trace_log_fields() -> dict[str, str | None]:
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return {"trace_id": None, "span_id": None}
    return {
        "trace_id": trace.format_trace_id(span_context.trace_id),
        "span_id": trace.format_span_id(span_context.span_id),
    }


def trace_headers() -> dict[str, str]:
    """The current trace context as message headers (OTEL_PROPAGATORS, W3C by default)."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


@contextmanager
def continue_trace(headers: Mapping[str, str]) -> Iterator[trace.Span]:
    """Handle one message inside the trace its headers name (or a new one, without them)."""
    parent = propagate.extract(dict(headers))
    token = context.attach(parent)
    try:
        with _tracer.start_as_current_span(
            CONSUMER_SPAN_NAME,
            kind=trace.SpanKind.CONSUMER,
            attributes={"messaging.operation.type": "process"},
        ) as span:
            yield span
    finally:
        context.detach(token)
