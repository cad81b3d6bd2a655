"""Every capability's metrics in the Prometheus format, read at scrape time.

Capabilities count with plain integers and describe them as `capability.Metric` families
(`Capability.metrics`), so none of them imports prometheus_client. This collector reads them
when /metrics is scraped and writes each family under the service's prefix:
`cache_requests_total` from caching becomes `<service>_cache_requests_total`.
"""

import logging
import re
from collections.abc import Iterable, Iterator, Sequence

from fastapi import FastAPI
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric as PrometheusMetric
from prometheus_client.registry import Collector

from ..capability import Capability, Metric

logger = logging.getLogger(__name__)

# The service's own prefix (its package name), as Prometheus' naming practice asks.
PREFIX = __name__.partition(".")[0]
METRIC_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def prefixed(name: str) -> str:
    return f"{PREFIX}_{name}"


def to_family(metric: Metric) -> PrometheusMetric:
    """One protocol family as a Prometheus family; its label names are those of its samples."""
    if not METRIC_NAME.fullmatch(metric.name):
        raise ValueError(f"metric name {metric.name!r} must match {METRIC_NAME.pattern}")
    if metric.kind == "counter" and not metric.name.endswith("_total"):
        raise ValueError(f"counter {metric.name!r} must end in _total")
    label_names = sorted({name for sample in metric.samples for name in sample.labels})
    family: CounterMetricFamily | GaugeMetricFamily
    if metric.kind == "counter":
        family = CounterMetricFamily(prefixed(metric.name), metric.help, labels=label_names)
    else:
        family = GaugeMetricFamily(prefixed(metric.name), metric.help, labels=label_names)
    for sample in metric.samples:
        family.add_metric([sample.labels.get(name, "") for name in label_names], sample.value)
    return family


class CapabilityCollector(Collector):
    """Reads `metrics(app)` of every capability of `app` at each scrape."""

    def __init__(self, app: FastAPI, capabilities: Sequence[Capability]) -> None:
        self._app = app
        self._capabilities = capabilities

    def collect(self) -> Iterator[PrometheusMetric]:
        for capability in self._capabilities:
            try:
                families = [to_family(metric) for metric in capability.metrics(self._app)]
            except Exception:  # one capability's failure must not empty the whole scrape
                logger.exception("metrics of %s could not be read", capability.name)
                continue
            yield from families

    def describe(self) -> Iterable[PrometheusMetric]:
        return ()  # read at scrape time only: nothing is collected when registering
