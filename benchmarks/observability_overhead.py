"""Print what `observability` costs on the items read path, and how fast /metrics answers.

Run (services up: `scripts/services up`, `eval "$(scripts/services env)"`, which starts the
OpenTelemetry Collector the traces go to; wrk from Debian: `apt-get install -y wrk`):

    .venv/bin/python benchmarks/observability_overhead.py [--duration 4] [--rounds 6]
        [--connections 8] [--items 1000]

Two projects are rendered through `scaffold new`'s own code path, the base service and the same
service with `observability`, and run with the matrix's shared environment
(`.cache/generated-venv`) against one fresh database of the PostgreSQL at DATABASE_URL, seeded
with `--items` items. Three uvicorn servers run on loopback: the base service; the observed
one as it ships (OTEL_TRACES_SAMPLER_ARG at its default), exporting its spans to the collector
at OTEL_EXPORTER_OTLP_ENDPOINT; and the observed one sampling every request (ratio 1.0). wrk
loads each in turn, `--rounds` times in rotating order, with GET /items/{id} of random items;
each server's CPU time (from /proc) is divided by the requests it answered. Then /metrics of
the warmed observed server is fetched 50 times, as Prometheus does (OpenMetrics). Targets:
throughput with observability at least 85% of the base service's; the scrape under 50 ms.
Numbers only; nothing here asserts a time. All servers log at WARNING.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.budget_servers import seed  # noqa: E402
from tests.matrix.runtime_checks import free_port, fresh_database  # noqa: E402
from tests.support.render import project_and_python, render  # noqa: E402

PROJECT = "bench-svc"
PACKAGE = "bench_svc"
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
SERVICES_HINT = 'run `scripts/services up` and `eval "$(scripts/services env)"`'
WRK_SCRIPT = """
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS_FILE")) do ids[#ids + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/items/" .. ids[math.random(#ids)])
end
"""


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@dataclass(frozen=True)
class Round:
    requests: int
    per_second: float
    cpu_us_per_request: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=4, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=6, help="measurements of each server")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--items", type=int, default=1000, help="items seeded and requested")
    options = parser.parse_args()
    for name in ("DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        if not os.environ.get(name):
            sys.exit(f"{name} is not set: {SERVICES_HINT}")
    wrk = shutil.which("wrk") or sys.exit("wrk is not installed: apt-get install -y wrk")

    with tempfile.TemporaryDirectory(prefix="observability-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        base, python = project_and_python(scratch / "base", PROJECT, ())
        observed = render(PROJECT, scratch / "observed", ("observability",))
        database = f"obs_bench_{secrets.token_hex(4)}"
        with fresh_database(os.environ["DATABASE_URL"], database) as database_url:
            env = {
                **os.environ,
                "DATABASE_URL": database_url,
                "LOG_LEVEL": "WARNING",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
            env.pop("VIRTUAL_ENV", None)
            env.pop("OTEL_TRACES_SAMPLER_ARG", None)  # the service's default, as it ships
            migrate = [str(python), "-m", "alembic", "upgrade", "heads"]
            migrate_env = {**env, "PYTHONPATH": str(base / "src")}
            subprocess.run(migrate, cwd=base, env=migrate_env, check=True)
            ids_file = scratch / "ids.txt"
            ids_file.write_text("\n".join(seed(database_url, options.items)) + "\n")
            script = scratch / "random-item.lua"
            script.write_text(WRK_SCRIPT)
            variants = {
                "base service": (base, {}),
                "observability": (observed, {}),
                "observability, every trace sampled": (
                    observed,
                    {"OTEL_TRACES_SAMPLER_ARG": "1.0"},
                ),
            }
            with ExitStack() as stack:
                servers = {
                    name: stack.enter_context(server(python, project, {**env, **extra}))
                    for name, (project, extra) in variants.items()
                }
                results = measure(wrk, servers, script, ids_file, options)
                scrapes = scrape_times(servers["observability"].url)
            ratio = default_ratio(python, observed, env)
    report(results, scrapes, options, ratio)


@contextmanager
def server(python: Path, project: Path, env: dict[str, str]) -> Iterator[Server]:
    port = free_port()
    process = subprocess.Popen(
        [str(python), "-m", "uvicorn", "--factory", f"{PACKAGE}.main:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        cwd=project, env={**env, "PYTHONPATH": str(project / "src")},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                output = process.stderr.read() if process.stderr else ""
                sys.exit(f"uvicorn exited with {process.returncode}:\n{output}")
            try:
                get(f"{url}/health/ready")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def get(url: str, accept: str = "*/*") -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as response:
        body: bytes = response.read()
        return body


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(
    wrk: str, server: Server, script: Path, ids: Path, connections: int, seconds: int
) -> Round:
    before = cpu_seconds(server.pid)
    done = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), server.url],
        env={**os.environ, "BENCH_IDS_FILE": str(ids)}, check=True, capture_output=True, text=True,
    )  # fmt: skip
    cpu = cpu_seconds(server.pid) - before
    requests = int(re.search(r"(\d+) requests in", done.stdout).group(1))  # type: ignore[union-attr]
    per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    return Round(requests, per_second, cpu / max(requests, 1) * 1e6)


def measure(
    wrk: str, servers: dict[str, Server], script: Path, ids: Path, options: argparse.Namespace
) -> dict[str, list[Round]]:
    for each in servers.values():  # warm up: pools, connections, the first series
        load(wrk, each, script, ids, options.connections, seconds=2)
    names = list(servers)
    results: dict[str, list[Round]] = {name: [] for name in names}
    for number in range(options.rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            result = load(wrk, servers[name], script, ids, options.connections, options.duration)
            results[name].append(result)
            print(f"round {number + 1}, {name:<36} {result.per_second:8.0f} req/s"
                  f"  {result.cpu_us_per_request:6.0f} µs CPU per request")  # fmt: skip
    return results


def scrape_times(url: str, count: int = 50) -> list[float]:
    get(f"{url}/metrics", OPENMETRICS)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        body = get(f"{url}/metrics", OPENMETRICS)
        times.append((time.perf_counter() - started) * 1000)
    lines = body.count(b"\n")
    print(f"/metrics: {len(body)} bytes, {lines} lines")
    return times


def default_ratio(python: Path, project: Path, env: dict[str, str]) -> str:
    code = f"from {PACKAGE}.config import Settings; print(Settings().otel_traces_sampler_arg)"
    done = subprocess.run(
        [str(python), "-c", code], cwd=project, env={**env, "PYTHONPATH": str(project / "src")},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def report(
    results: dict[str, list[Round]], scrapes: list[float], options: argparse.Namespace, ratio: str
) -> None:
    def median(name: str, field: str) -> float:
        return float(statistics.median(getattr(result, field) for result in results[name]))

    print(
        f"\nGET /items/{{id}} of {options.items} random items,"
        f" wrk {options.connections} connections,"
        f" {options.duration} s x {options.rounds} rounds per server (medians);"
        f" the service's default sampling ratio is {ratio}:"
    )
    base_rate = median("base service", "per_second")
    base_cpu = median("base service", "cpu_us_per_request")
    for name in results:
        rate, cpu = median(name, "per_second"), median(name, "cpu_us_per_request")
        print(
            f"  {name:<36} {rate:8.0f} req/s ({100 * rate / base_rate:5.1f}% of the base)"
            f"  {cpu:6.0f} µs CPU per request ({100 * base_cpu / cpu:5.1f}% of the base's rate)"
        )
    print("  target: at least 85% of the base service's throughput")
    scrapes.sort()
    print(
        f"\n/metrics of the warmed service ({len(scrapes)} scrapes, OpenMetrics): median"
        f" {statistics.median(scrapes):.1f} ms, p95 {scrapes[int(len(scrapes) * 0.95) - 1]:.1f} ms,"
        f" max {scrapes[-1]:.1f} ms (target: under 50 ms)"
    )
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
