"""What the metrics tests share: traffic (in-process, or for the live app), the families on
/metrics, selectors of this service's job, the dashboard's queries as Grafana fills them, and
the check that the rules a test loaded evaluate cleanly. Used by test_prometheus.py here (the
app of observability alone) and by the service's tests/integration/test_observed_service.py
(the whole service's app)."""

import json
import re
import time
import uuid
from typing import Any

import httpx
from httpx import AsyncClient
from prometheus_client.metrics_core import Metric

from ...fixtures.observability import DASHBOARD, JOB
from .servers import Prometheus, parse

# Grafana's variables, as the dashboard fills them for this service.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$job": JOB, "$instance": ".*"}
ITEM = "/items/{item_id}"
SELECTED_METRIC = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{")
ERRORS_RATIO = "job:http_server_requests_errors:ratio_rate5m"
SLOW_RATIO = "job:http_server_requests_slow:ratio_rate5m"


def selector(name: str, **labels: str) -> str:
    """`name{job="<this service>",label="value",...}`"""
    matchers = {"job": JOB, **labels}
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in matchers.items()) + "}"


async def scrape(client: AsyncClient) -> dict[str, Metric]:
    """The families of the app's /metrics, by name (in-process)."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {family.name: family for family in parse(response.text)}


async def some_traffic(client: AsyncClient) -> str:
    """Reads, a write, misses and a probe, in-process; the item's id."""
    created = await client.post("/items", json={"name": "observed"})
    assert created.status_code == 201
    item_id: str = created.json()["id"]
    for _ in range(3):
        assert (await client.get(f"/items/{item_id}")).status_code == 200
    assert (await client.get(f"/items/{uuid.uuid4()}")).status_code == 404
    assert (await client.get(f"/no-such-page/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/health/live")).status_code == 200
    return item_id


def traffic(client: httpx.Client) -> None:
    """Reads, a write and misses, through the live app's server."""
    item_id = client.post("/items", json={"name": "scraped"}).json()["id"]
    for _ in range(5):
        assert client.get(f"/items/{item_id}").status_code == 200
    assert client.get(f"/items/{uuid.uuid4()}").status_code == 404
    assert client.get("/not-a-route").status_code == 404


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every panel, with Grafana's variables filled in."""
    queries = []
    for panel in json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]:
        for target in panel.get("targets", []):
            expr: str = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            queries.append((panel["title"], expr))
    return queries


def exported_names(client: httpx.Client) -> set[str]:
    """Every series name the service exports on /metrics (histograms with their suffixes), as
    the live app's client reads it (one client for every poll: `httpx.get` builds a client, and
    its TLS context, each time)."""
    text = client.get("/metrics").text
    return {sample.name for family in parse(text) for sample in family.samples}


def exported_after_sampling(
    client: httpx.Client, wanted: set[str], seconds: float = 30
) -> set[str]:
    """`exported_names`, once it holds `wanted` or `seconds` have passed: gauges sampled in the
    background (a broker's depth, a replica's lag) appear at their first sample."""
    deadline = time.monotonic() + seconds
    while not wanted <= (exported := exported_names(client)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return exported


def evaluated_after(record: str, scraped: float) -> str:
    """The recorded ratio, once a rule evaluation after `scraped` (a Unix time) recorded it."""
    return f"{selector(record)} >= 0 and timestamp({selector(record)}) > {scraped:.3f}"


def labels_of(result: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [entry["metric"] for entry in result]


def assert_the_rules_evaluate_cleanly(live_client: httpx.Client, prometheus: Prometheus) -> None:
    """After real traffic, the service's ratios are recorded (no 5xx), no rule Prometheus
    evaluates is in error, and none fires: a healthy service fires no alert."""
    traffic(live_client)  # a series starts at its first scrape: only what follows is a rate
    prometheus.wait_for(selector("http_server_requests_total", route="/items"))
    traffic(live_client)
    seen = prometheus.since(time.time())
    seen.wait_for(selector("http_server_requests_total"))  # a scrape after the second traffic
    scraped = seen.last_scrape()

    # Ratios the rules computed after that scrape; `>= 0` leaves out NaN (no traffic yet).
    errors = prometheus.wait_for(evaluated_after(ERRORS_RATIO, scraped))
    slow = prometheus.wait_for(evaluated_after(SLOW_RATIO, scraped))

    assert float(errors[0]["value"][1]) == 0  # no 5xx in this traffic
    assert 0 <= float(slow[0]["value"][1]) <= 1
    groups = prometheus.get("/api/v1/rules")["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) >= 10
    for rule in rules:
        assert rule["health"] != "err", f"{rule['name']}: {rule.get('lastError')}"
    firing = [rule["name"] for rule in rules if rule.get("state") == "firing"]
    assert firing == [], "a healthy service fires no alert"
