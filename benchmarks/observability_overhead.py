"""Print what `observability` costs on the items read path, and how fast /metrics answers.

Run (services up: `scripts/services up`, `eval "$(scripts/services env)"`, which starts the
OpenTelemetry Collector the traces go to; wrk from Debian: `apt-get install -y wrk`):

    .venv/bin/python benchmarks/observability_overhead.py [--with caching,rate_limiting]
        [--duration 5] [--rounds 6] [--connections 16] [--items 1000] [--baseline main]

Two projects are rendered through `scaffold new`'s own code path, the service with the
capabilities of `--with` (none by default: the plain service, each read a SQL query) and the
same service with `observability` too, and run with the matrix's shared environment
(`.cache/generated-venv`) against one fresh database of the PostgreSQL at DATABASE_URL, seeded
with `--items` items (and, with caching, the cache warm: every measured read is a hit). Three
uvicorn servers run on loopback, one worker each, logging at WARNING: the service without
observability; with observability as it ships (OTEL_TRACES_SAMPLER_ARG at the service's
default, which this prints), exporting its spans to the collector at
OTEL_EXPORTER_OTLP_ENDPOINT; and with observability sampling every request (ratio 1.0, as
compose does). wrk (one thread) loads each in turn, `--rounds` times in rotating order, with
GET /items/{id} of random items; each server's CPU time (from /proc, all its threads: the span
exporter's too) is divided by the requests it answered. Then /metrics of the warmed observed
server is fetched 50 times, as Prometheus does (OpenMetrics). With `--baseline REF`, a fourth
server runs the observed project with the service package's plain .py files as they were at
git ref REF (`budget_baseline.as_of`), so a change is measured before and after in one run.
The CPU ratio (CPU per request without observability over with it) is the steadier measure on
shared cores: it moves less than requests/s when other work takes turns. Targets: throughput with
observability at least 85% of the service's without it; the scrape under 50 ms. Numbers only;
nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.budget_baseline import as_of  # noqa: E402
from benchmarks.budget_reference import delete_keys  # noqa: E402
from benchmarks.budget_servers import (  # noqa: E402
    BENCH_ENVIRONMENT,
    WRK_SCRIPT,
    Result,
    get,
    load,
    seed,
    server,
)
from tests.matrix.runtime_checks import fresh_database  # noqa: E402
from tests.support.render import render, shared_interpreter  # noqa: E402

PROJECT = "bench-svc"
PACKAGE = "bench_svc"
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
SERVICES_HINT = 'run `scripts/services up` and `eval "$(scripts/services env)"`'
WITHOUT = "without observability"
SHIPPED = "observability"
EVERY_TRACE = "observability, all sampled"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with", dest="capabilities", default="",
                        help="capabilities of both services, comma-separated")  # fmt: skip
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=6, help="measurements of each server")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--items", type=int, default=1000, help="items seeded and requested")
    parser.add_argument("--baseline", metavar="REF",
                        help="also run the observed service's code as of this git ref")  # fmt: skip
    options = parser.parse_args()
    base_capabilities = tuple(c for c in options.capabilities.split(",") if c)
    needed = ["DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"]
    for name in needed + (["REDIS_URL"] if base_capabilities else []):
        if not os.environ.get(name):
            sys.exit(f"{name} is not set: {SERVICES_HINT}")
    wrk = shutil.which("wrk") or sys.exit("wrk is not installed: apt-get install -y wrk")

    with (
        tempfile.TemporaryDirectory(prefix="observability-bench-") as scratch_dir,
        ExitStack() as stack,
    ):
        scratch = Path(scratch_dir)
        python = shared_interpreter(scratch)
        base = render(PROJECT, scratch / "base", base_capabilities)
        observed = render(PROJECT, scratch / "observed", (*base_capabilities, "observability"))
        prefix = f"obs_bench_{secrets.token_hex(4)}"
        if base_capabilities:  # Redis keys of caching, rate limiting
            stack.callback(delete_keys, python, prefix)
        database_url = stack.enter_context(fresh_database(os.environ["DATABASE_URL"], prefix))
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.pop("VIRTUAL_ENV", None)
        env.pop("OTEL_TRACES_SAMPLER_ARG", None)  # the service's default, as it ships
        for capability in base_capabilities:
            env.update(BENCH_ENVIRONMENT.get(capability, {}))
        migrate = [str(python), "-m", "alembic", "upgrade", "heads"]
        subprocess.run(migrate, cwd=observed, env={**env, "PYTHONPATH": str(observed / "src")},
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        ids = seed(database_url, options.items)
        ids_file = scratch / "ids.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        script = scratch / "random-item.lua"
        script.write_text(WRK_SCRIPT)
        variants = {WITHOUT: (base, {})}
        if options.baseline:
            before = as_of(observed, scratch / "observed-baseline", options.baseline)
            variants[f"{SHIPPED} at {options.baseline}"] = (before, {})
        variants |= {
            SHIPPED: (observed, {}),
            EVERY_TRACE: (observed, {"OTEL_TRACES_SAMPLER_ARG": "1.0"}),
        }
        servers: dict[str, str] = {}  # name: base URL
        for number, (name, (project, extra)) in enumerate(variants.items()):
            server_env = {**env, **extra, "PYTHONPATH": str(project / "src"),
                          "REDIS_KEY_PREFIX": f"{prefix}.{number}"}  # fmt: skip
            uvicorn = ["--factory", f"{PACKAGE}.main:create_app"]
            servers[name] = stack.enter_context(server(python, project, server_env, uvicorn))
            for item_id in ids:  # with caching, the cache warm: every measured read is a hit
                get(f"{servers[name]}/items/{item_id}")
        results = measure(wrk, servers, script, ids_file, options)
        scrapes = scrape_times(servers[SHIPPED])
        ratio = default_ratio(python, observed, env)
    report(results, scrapes, options, base_capabilities, ratio)


def measure(
    wrk: str, servers: dict[str, str], script: Path, ids: Path, options: argparse.Namespace
) -> dict[str, list[Result]]:
    for each in servers.values():  # warm up: pools, connections, the first series
        load(wrk, each, script, ids, options.connections, seconds=2)
    names = list(servers)
    results: dict[str, list[Result]] = {name: [] for name in names}
    for number in range(options.rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            each = servers[name]
            result = load(wrk, each, script, ids, options.connections, options.duration)
            results[name].append(result)
            print(f"round {number + 1}, {name:<27} {result.describe()}"
                  f"  {result.cpu_us_per_request:6.0f} µs CPU/req", flush=True)  # fmt: skip
    return results


def scrape_times(url: str, count: int = 50) -> list[float]:
    get(f"{url}/metrics", accept=OPENMETRICS)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        body = get(f"{url}/metrics", accept=OPENMETRICS)
        times.append((time.perf_counter() - started) * 1000)
    print(f"/metrics: {len(body)} bytes, {body.count(chr(10))} lines")
    return times


def default_ratio(python: Path, project: Path, env: dict[str, str]) -> str:
    code = f"from {PACKAGE}.config import Settings; print(Settings().otel_traces_sampler_arg)"
    done = subprocess.run(
        [str(python), "-c", code], cwd=project, env={**env, "PYTHONPATH": str(project / "src")},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def report(
    results: dict[str, list[Result]],
    scrapes: list[float],
    options: argparse.Namespace,
    base_capabilities: tuple[str, ...],
    ratio: str,
) -> None:
    def median(name: str, attribute: str) -> float:
        return float(statistics.median(getattr(result, attribute) for result in results[name]))

    print(
        f"\nGET /items/{{id}} of {options.items} random items, service with"
        f" {', '.join(base_capabilities) or 'no capability'}; wrk -t1 -c{options.connections},"
        f" {options.duration} s x {options.rounds} rounds per server (medians);"
        f" the service's default sampling ratio is {ratio}:"
    )
    header = (
        f"{'server':<28}{'req/s':>7}{'ratio':>8}{'p50 ms':>8}{'p99 ms':>8}{'µs/req':>8}"
        f"{'adds µs':>8}{'CPU µs/req':>11}{'adds':>6}{'CPU ratio':>10}"
    )
    print(header)
    print("-" * len(header))
    base_rps = median(WITHOUT, "per_second")
    base_cpu = median(WITHOUT, "cpu_us_per_request")
    for name in results:
        rps, cpu = median(name, "per_second"), median(name, "cpu_us_per_request")
        print(
            f"{name:<28}{rps:7.0f}{100 * rps / base_rps:7.1f}%{median(name, 'p50_ms'):8.2f}"
            f"{median(name, 'p99_ms'):8.2f}{1e6 / rps:8.0f}{1e6 / rps - 1e6 / base_rps:8.0f}"
            f"{cpu:11.0f}{cpu - base_cpu:6.0f}{100 * base_cpu / cpu:9.1f}%"
        )
    errors = sum(r.socket_errors + r.non_2xx for rs in results.values() for r in rs)
    print(f"errors (socket + non-2xx) over all runs: {errors}")
    print("target: with observability, at least 85% of the requests/s without it"
          " (CPU ratio: CPU per request without it over with it)")  # fmt: skip
    scrapes.sort()
    print(
        f"\n/metrics of the warmed service ({len(scrapes)} scrapes, OpenMetrics): median"
        f" {statistics.median(scrapes):.1f} ms, p95 {scrapes[int(len(scrapes) * 0.95) - 1]:.1f} ms,"
        f" max {scrapes[-1]:.1f} ms (target: under 50 ms)"
    )
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
