"""Real servers for the observability tests: the app under uvicorn, Prometheus, and the spans
the OpenTelemetry Collector wrote. Each listens on a free loopback port of its own."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from fastapi import FastAPI
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

PROMETHEUS_HINT = (
    "is needed by the observability tests: install Prometheus (Debian/Ubuntu: "
    "`apt-get install prometheus`; macOS: `brew install prometheus`) or set {variable} to it"
)


def parse(exposition: str) -> list[Metric]:
    """The families of a /metrics answer in the classic text format."""
    return list(text_string_to_metric_families(exposition))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def kept_port() -> int:
    """A free loopback port below the kernel's ephemeral range, for a port a test frees and
    binds again (each test's app on the port Prometheus scrapes): no `bind(0)` or outgoing
    connection of any process on the machine takes it in between, as one can a `free_port`."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # Linux's default; elsewhere the range starts higher (macOS 49152)
    for port in secrets.SystemRandom().sample(range(20000, min(low, 32768)), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    return free_port()


def find_tool(name: str, variable: str) -> str | None:
    """`prometheus` or `promtool`: from PROMETHEUS_BIN / PROMTOOL_BIN, else from PATH."""
    found = os.environ.get(variable, "").strip() or shutil.which(name)
    return found if found and Path(found).is_file() else None


def tool(name: str, variable: str) -> str:
    """`find_tool`, or the test fails saying how to install it."""
    found = find_tool(name, variable)
    if not found:
        pytest.fail(f"{name} {PROMETHEUS_HINT.format(variable=variable)}", pytrace=False)
    return found


@contextmanager
def uvicorn_serving(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """The app under a real uvicorn on a loopback port (a free one by default), in a thread;
    yields its URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start (see the log above)", pytrace=False)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def rule_groups(path: Path) -> list[dict[str, Any]]:
    """The groups of a rules file."""
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    groups: list[dict[str, Any]] = loaded["groups"]
    return groups


def rule_group_names(server: "Prometheus") -> set[str]:
    """The names of the rule groups Prometheus evaluates."""
    return {group["name"] for group in server.get("/api/v1/rules")["groups"]}


class Prometheus:
    """A Prometheus process scraping one target every 250 ms, with the service's rules.

    One process serves the whole session (see `PrometheusProcess`); each test's app listens on
    the same target port. `since(t)` is the view a test gets: it waits for data scraped after
    `t`, when its own app was up, so a series left by an earlier test's app never answers for
    this one's.
    """

    def __init__(self, client: httpx.Client, job: str, after: float = 0) -> None:
        self.client = client  # one connection for the many queries a test makes
        self.job = job
        self.after = after
        self.up = 'up{job="' + job + '"}'  # the target's health, at each scrape's start time

    def since(self, after: float) -> "Prometheus":
        return Prometheus(self.client, self.job, after)

    def get(self, path: str, **params: object) -> Any:
        response = self.client.get(path, params=params)  # type: ignore[arg-type]
        body = response.json()
        assert body["status"] == "success", f"{path} {params}: {body}"
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query", query=expr)
        result: list[dict[str, Any]] = data["result"]
        return result

    def series(self, match: str) -> list[dict[str, str]]:
        found: list[dict[str, str]] = self.get("/api/v1/series", **{"match[]": match})
        return found

    def last_scrape(self) -> float:
        """When the latest scrape of the target started (0 before the first one)."""
        found = self.query(f"timestamp({self.up})")
        return max((float(entry["value"][1]) for entry in found), default=0)

    def wait_for(self, expr: str, seconds: float = 30) -> list[dict[str, Any]]:
        """The result of `expr` once it is not empty, in data scraped after `self.after`."""
        fresh = f"({expr}) and on() (timestamp({self.up}) > {self.after:.3f})"
        deadline = time.monotonic() + seconds
        while True:
            result = self.query(fresh)
            if result:
                return result
            if time.monotonic() > deadline:
                pytest.fail(f"Prometheus never had {expr} within {seconds:g} s", pytrace=False)
            time.sleep(0.1)


class PrometheusProcess:
    """Prometheus on a free loopback port, scraping the loopback port `scraped_port` as job
    `job`: started at once, waited for by `wait_ready()`.

    It scrapes a new target only about five seconds after it starts (its scrape manager applies
    discovered targets on a five-second tick, whatever the scrape interval), so the session
    starts it before its first test (tests/fixtures/observability.py) and those seconds pass
    while other tests run. It evaluates no rules until a test asks for some (`evaluating`:
    evaluating them every 250 ms is what an idle Prometheus spends its CPU on), and loads them
    by a configuration reload (SIGHUP), which keeps the scrape running.
    """

    def __init__(self, binary: str, job: str, scraped_port: int) -> None:
        self.job = job
        self.scraped_port = scraped_port
        self.rules: tuple[Path, ...] = ()
        self.scratch = Path(tempfile.mkdtemp(prefix="prometheus-"))
        self.config_file = self.scratch / "prometheus.yml"
        self.configure(rules=())
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = self.scratch / "prometheus.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own arguments; the user's binary)
                [
                    binary,
                    f"--config.file={self.config_file}",
                    f"--storage.tsdb.path={self.scratch / 'data'}",
                    f"--web.listen-address={self.url.removeprefix('http://')}",
                    "--enable-feature=exemplar-storage",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def configure(self, rules: Sequence[Path]) -> None:
        target = f"127.0.0.1:{self.scraped_port}"
        config = {
            "global": {"scrape_interval": "250ms", "evaluation_interval": "250ms"},
            "rule_files": [str(path) for path in rules],
            "scrape_configs": [{"job_name": self.job, "static_configs": [{"targets": [target]}]}],
        }
        self.config_file.write_text(yaml.safe_dump(config), encoding="utf-8")

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                output = self.log.read_text(encoding="utf-8")
                pytest.fail(f"Prometheus exited with {self.process.returncode}:\n{output}", False)
            try:
                if condition():
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                output = self.log.read_text(encoding="utf-8")
                pytest.fail(f"Prometheus: {what} not within 30 s:\n{output}", pytrace=False)
            time.sleep(0.05)

    def wait_ready(self) -> None:
        with httpx.Client(base_url=self.url, timeout=1) as client:  # one for every try
            self.wait_until(lambda: client.get("/-/ready").is_success, "ready")

    @contextmanager
    def evaluating(self, rules: Sequence[Path]) -> Iterator[Prometheus]:
        """A client of it, once it evaluates these rules files (reloaded when they are not the
        ones it has)."""
        with httpx.Client(base_url=self.url, timeout=10) as client:
            server = Prometheus(client, self.job)
            if tuple(rules) != self.rules:
                self.configure(rules)
                self.process.send_signal(signal.SIGHUP)
                wanted = {group["name"] for path in rules for group in rule_groups(path)}
                self.wait_until(lambda: rule_group_names(server) == wanted, "rules loaded")
                self.rules = tuple(rules)
            yield server

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        shutil.rmtree(self.scratch, ignore_errors=True)


class SpanLog:
    """The collector's file of spans (OTLP JSON lines), read from where it ended when a test
    began: the file grows with every run against the same collector, a test reads its own part.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start = path.stat().st_size if path.is_file() else 0

    def lines(self) -> list[str]:
        """The complete lines written since `start` (the collector may be mid-line)."""
        if not self.path.is_file():
            return []
        with self.path.open("rb") as file:
            start = self.start if file.seek(0, os.SEEK_END) >= self.start else 0
            file.seek(max(start - 1, 0))
            data = file.read()
        if start > 0:  # the byte before `start`: a newline, or the end of a line cut short
            data = data.partition(b"\n")[2]
        lines = data.decode("utf-8").split("\n")
        return [line for line in lines[:-1] if line.strip()]


def collector_spans(spans_file: SpanLog, **resource: str) -> list[dict[str, Any]]:
    """Every span the collector wrote since the test began whose resource has these attributes."""
    found: list[dict[str, Any]] = []
    for line in spans_file.lines():
        for resource_spans in json.loads(line).get("resourceSpans", []):
            attributes = {
                a["key"]: next(iter(a["value"].values()), None)
                for a in resource_spans.get("resource", {}).get("attributes", [])
            }
            if any(attributes.get(key) != value for key, value in resource.items()):
                continue
            for scope_spans in resource_spans.get("scopeSpans", []):
                found.extend(scope_spans.get("spans", []))
    return found
