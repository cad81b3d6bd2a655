"""Server spans that start a trace, sampled before the SDK is asked.

Most requests name no trace of their own, and the ratio sampler drops most of the traces they
start. For each, the SDK's `start_span` would draw the ids, ask `ParentBased` which asks
`TraceIdRatioBased`, build a sampling result and only then hand out a non-recording span: the
largest part of what observability costs a request nobody will look at (measured in
benchmarks/observability_overhead.py). `NewTraces` draws the trace id itself and applies the
ratio sampler's own rule (the id's low 64 bits below the sampler's bound): a dropped trace gets
the very span the SDK would have made (same flags, no trace state), and a kept one goes to the
SDK with that trace id (`ChosenTraceIds`), so the SDK's sampler decides the same and records it.
The unit tests hold both decisions side by side.
"""

import threading
from collections.abc import Callable

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.util.types import Attributes


class ChosenTraceIds(RandomIdGenerator):
    """The SDK's random ids, except for the root span `NewTraces` asks the SDK for: that one
    gets the trace id its sampling was decided on."""

    def __init__(self) -> None:
        self._chosen = threading.local()  # set and taken in one `start_span` of one thread

    def choose(self, trace_id: int | None) -> None:
        self._chosen.trace_id = trace_id

    def generate_trace_id(self) -> int:
        chosen: int | None = getattr(self._chosen, "trace_id", None)
        if chosen is None:
            return super().generate_trace_id()
        self._chosen.trace_id = None
        return chosen


class NewTraces:
    """Root spans of one app's provider, whose sampler is `ParentBased(TraceIdRatioBased(ratio))`
    (see tracing.py's `build_provider`)."""

    def __init__(self, provider: TracerProvider, tracer: trace.Tracer, ratio: float) -> None:
        ids = provider.id_generator
        self._ids = ids if isinstance(ids, ChosenTraceIds) else None
        self._tracer = tracer
        self._bound = TraceIdRatioBased.get_bound_for_rate(ratio)
        # The SDK marks a trace id it drew at random as such (W3C Trace Context level 2).
        random = ids.is_trace_id_random()
        flags = trace.TraceFlags.RANDOM_TRACE_ID if random else trace.TraceFlags.DEFAULT
        self._dropped_flags = trace.TraceFlags(flags)

    def start_span(
        self,
        name: str,
        kind: trace.SpanKind,
        attributes: Callable[[], Attributes] | None = None,
    ) -> trace.Span:
        """`attributes` are built only for a span that will be recorded, and given to the SDK
        at its start: one validation pass and no lock, rather than `set_attributes` after."""
        ids = self._ids
        if ids is None:
            found = attributes() if attributes is not None else None
            return self._tracer.start_span(name, context=Context(), kind=kind, attributes=found)
        trace_id = RandomIdGenerator.generate_trace_id(ids)
        if trace_id & TraceIdRatioBased.TRACE_ID_LIMIT >= self._bound:
            span_context = trace.SpanContext(
                trace_id, ids.generate_span_id(), is_remote=False, trace_flags=self._dropped_flags
            )
            return trace.NonRecordingSpan(span_context)
        found = attributes() if attributes is not None else None
        ids.choose(trace_id)
        try:
            return self._tracer.start_span(name, context=Context(), kind=kind, attributes=found)
        finally:
            ids.choose(None)  # taken by the SDK, unless it made no span at all
