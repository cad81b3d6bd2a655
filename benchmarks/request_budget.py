"""Print the per-request budget of the generated service: each request-path capability priced
against a hand-written floor, same run.

Run (services up: `scripts/services up`, `eval "$(scripts/services env)"`; wrk from Debian):

    .venv/bin/python benchmarks/request_budget.py [--duration 8] [--rounds 2] [--items 1000]
        [--planned NAME] [--upto rate_limiting] [--baseline main]

`--planned NAME` includes a capability the catalog still lists as planned (one it offers is
measured anyway: the option then changes nothing; with auth, requests carry a bearer token of
the provider at OIDC_ISSUER), `--upto NAME` stops the request path
there, `--baseline REF` also runs the first configuration (caching alone, the target's) and
the last one with the generated code of git REF (before and after, same run).
docs/performance.md shows a run and how to read it.

Servers, all on loopback, one uvicorn worker each, logging at WARNING, the same JSON item:
- floor: a hand-written FastAPI handler doing one Redis `GET` and returning the bytes (the least
  any service can do for this job);
- bare: a FastAPI handler returning the item as a dict, no Redis (the framework's own cost);
- the generated service rendered through `scaffold new`'s code path, `GET /items/{id}` with the
  cache warm, first with `caching` alone, then adding the other request-path capabilities one at
  a time (those the catalog has available; the others are listed as not available yet).

Each server is loaded in turn by wrk (one thread): `--connections` for requests/s (default 32)
and `--tail-connections` for the latency percentiles (default 8), `--rounds` times in
alternating order. Printed: requests/s, p50/p99, the ratio to the floor, and what each
capability adds per request in microseconds and as a % of the floor's: in wall time
(1e6 / requests/s) and in the server process's own CPU time (`/proc`), which contention for
shared cores changes least.
Targets (issue 18): caching alone >= 0.75x the floor's requests/s with p99 <= 1.5x the floor's;
every request-path capability present >= 0.5x. Numbers only; nothing here asserts a time.
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
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import budget_auth  # noqa: E402
from benchmarks.budget_baseline import as_of  # noqa: E402
from benchmarks.budget_reference import BARE_APP, FLOOR_APP, delete_keys, set_floor_keys  # noqa: E402
from benchmarks.budget_servers import (  # noqa: E402
    BENCH_ENVIRONMENT,
    BENCH_TENANT,
    WRK_SCRIPT,
    Result,
    get,
    load,
    seed,
    server,
)
from scaffold.catalog import CATALOG  # noqa: E402
from tests.matrix.runtime_checks import fresh_database  # noqa: E402
from tests.support.render import (  # noqa: E402
    planned_interpreter,
    render,
    render_planned,
    shared_interpreter,
)

SERVICES_HINT = 'run `scripts/services up` and `eval "$(scripts/services env)"`'
PACKAGE = "bench_svc"
# The request path, in the order the issue prices it: each configuration adds one capability.
REQUEST_PATH = ("caching", "rate_limiting", "auth", "multitenancy", "observability")


@dataclass
class Server:
    name: str
    over: str | None = None
    """The server this one is priced over (the previous configuration); None: not priced."""
    base: str = ""
    tokens: Path | None = None
    """Bearer tokens its requests carry, in turn (with `auth`)."""
    results: dict[int, list[Result]] = field(default_factory=dict)

    def median(self, connections: int, attribute: str) -> float:
        return statistics.median(getattr(r, attribute) for r in self.results[connections])


def configurations(
    upto: str | None = None, planned: tuple[str, ...] = ()
) -> tuple[list[tuple[str, ...]], list[str]]:
    """Cumulative capability sets to measure, and the request-path capabilities not available
    (`planned` ones count as available: rendered from their code on main)."""
    available = {c.name for c in CATALOG if c.available} | set(planned)
    path = REQUEST_PATH[: REQUEST_PATH.index(upto) + 1] if upto else REQUEST_PATH
    missing = [name for name in path if name not in available]
    present = [name for name in path if name in available]
    return [tuple(present[: n + 1]) for n in range(len(present))], missing


def label(capabilities: tuple[str, ...]) -> str:
    return capabilities[0] if len(capabilities) == 1 else f"+ {capabilities[-1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="measurements of each server")
    parser.add_argument("--items", type=int, default=1000, help="items seeded and requested")
    parser.add_argument("--connections", type=int, default=32, help="for requests/s")
    parser.add_argument("--tail-connections", type=int, default=8, help="for p50/p99")
    parser.add_argument("--upto", choices=REQUEST_PATH, help="stop after this capability")
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also measure the first and the last configuration with their generated code as of"
        " git REF (the service package's plain .py files that differ): before and after, same run",
    )
    parser.add_argument(
        "--planned",
        action="append",
        default=[],
        choices=[c.name for c in CATALOG],
        help="include this planned capability (rendered from its code, outside `scaffold new`'s"
        " refusal; its dependencies in an environment of their own); one the catalog now offers"
        " is in the request path already, and naming it changes nothing",
    )
    options = parser.parse_args()
    offered = {c.name for c in CATALOG if c.available}
    for name in sorted(set(options.planned) & offered):
        print(f"--planned {name}: the catalog offers it now; it is measured without the option")
    options.planned = [name for name in options.planned if name not in offered]
    configs, missing = configurations(options.upto, tuple(options.planned))
    with_auth = any("auth" in capabilities for capabilities in configs)
    for name in ["DATABASE_URL", "REDIS_URL", *(["OIDC_ISSUER"] if with_auth else [])]:
        if not os.environ.get(name):
            sys.exit(f"{name} is not set: {SERVICES_HINT}")
    wrk = shutil.which("wrk") or sys.exit("wrk is not installed: apt-get install -y wrk")

    with tempfile.TemporaryDirectory(prefix="budget-bench-") as scratch_dir, ExitStack() as stack:
        scratch = Path(scratch_dir)
        projects = [
            render_config(scratch, i, capabilities) for i, capabilities in enumerate(configs)
        ]
        python = planned_interpreter(projects) if options.planned else shared_interpreter(scratch)
        prefix = f"budget_bench_{secrets.token_hex(4)}"
        stack.callback(delete_keys, python, prefix)
        base_env = bench_environment(prefix)
        ids: list[str] = []
        servers: list[Server] = []
        for index, capabilities in enumerate(configs):
            baseline = options.baseline if index in (0, len(configs) - 1) else None
            ids = start_generated(stack, projects[index], python, base_env, index, capabilities,
                                  ids, options.items, servers, baseline)  # fmt: skip
        floor, bare = Server("floor"), Server("bare")
        reference_body = {item_id: get(f"{servers[0].base}/items/{item_id}") for item_id in ids}
        set_floor_keys(python, base_env, reference_body)
        (scratch / "floor_app.py").write_text(FLOOR_APP)
        (scratch / "bare_app.py").write_text(BARE_APP)
        reference_env = {**base_env, "PYTHONPATH": str(scratch)}
        floor.base = stack.enter_context(server(python, scratch, reference_env, ["floor_app:app"]))
        bare.base = stack.enter_context(server(python, scratch, reference_env, ["bare_app:app"]))
        measure(wrk, scratch, ids, [floor, bare, *servers], options)
    report(floor, bare, servers, missing, options)


def bench_environment(prefix: str) -> dict[str, str]:
    """The servers' environment: this one's, quiet logs, Redis keys under `prefix`."""
    env = {
        **os.environ,
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
        "FLOOR_PREFIX": f"{prefix}.floor",
        "BENCH_KEY_PREFIX": prefix,
    }
    env.pop("VIRTUAL_ENV", None)
    return env


def render_config(scratch: Path, index: int, capabilities: tuple[str, ...]) -> Path:
    """One configuration's project, through `scaffold new`'s code path (planned capabilities:
    the same render, from a template copy whose questions offer them)."""
    available = {c.name for c in CATALOG if c.available}
    if set(capabilities) <= available:
        return render("bench-svc", scratch / f"config{index}", capabilities)
    return render_planned("bench-svc", scratch / f"config{index}", capabilities)


def prepare(
    stack: ExitStack,
    project: Path,
    python: Path,
    base_env: dict[str, str],
    key_prefix: str,
    index: int,
    capabilities: tuple[str, ...],
    ids: list[str],
    items: int,
) -> tuple[dict[str, str], list[str]]:
    """Migrate and seed one configuration: its environment and item ids."""
    database_url = stack.enter_context(
        fresh_database(os.environ["DATABASE_URL"], f"budget_bench_{secrets.token_hex(4)}")
    )
    env = {
        **base_env,
        "DATABASE_URL": database_url,
        "REDIS_KEY_PREFIX": f"{key_prefix}.c{index}",
        "PYTHONPATH": str(project / "src"),
    }
    for capability in capabilities:
        env.update(BENCH_ENVIRONMENT.get(capability, {}))
    if "auth" in capabilities:
        env.update(budget_auth.ENVIRONMENT)
    subprocess.run(
        [str(python), "-m", "alembic", "upgrade", "heads"],
        cwd=project, env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    tenant = BENCH_TENANT if "multitenancy" in capabilities else None
    return env, seed(database_url, items, ids, tenant)


def start_generated(
    stack: ExitStack,
    project: Path,
    python: Path,
    base_env: dict[str, str],
    index: int,
    capabilities: tuple[str, ...],
    ids: list[str],
    items: int,
    servers: list[Server],
    baseline: str | None = None,
) -> list[str]:
    """Prepare one configuration, start its server(s), warm their caches; return the item ids.

    The first configuration also runs without `gc.freeze()`; with `auth`, requests carry a
    bearer token (`budget_auth.py`); with `baseline`, the
    configuration also runs from a copy of its project holding the generated code of that ref."""
    env, ids = prepare(stack, project, python, base_env, base_env["BENCH_KEY_PREFIX"], index,
                       capabilities, ids, items)  # fmt: skip
    name = label(capabilities)
    over = label(capabilities[:-1]) if len(capabilities) > 1 else "floor"
    variants = [(Server(name, over=over), project, env)]
    if index == 0:  # the garbage-collector question, decided by measurement
        unfrozen = {**env, "GC_FREEZE_AFTER_START_UP": "false"}
        variants.append((Server(f"{name}, no freeze"), project, unfrozen))
    if "auth" in capabilities:
        variants[0][0].tokens = budget_auth.token_file(project.parent.parent)
    if baseline:
        old = as_of(project, project.parent.parent / f"config{index}-{baseline}", baseline)
        old_env = {**env, "PYTHONPATH": str(old / "src")}
        variants.insert(0, (Server(f"{name} ({baseline})", over=over), old, old_env))
        variants[0][0].tokens = variants[1][0].tokens
    uvicorn = ["--factory", f"{PACKAGE}.main:create_app"]
    for entry, folder, variant_env in variants:
        entry.base = stack.enter_context(server(python, folder, variant_env, uvicorn))
        token = entry.tokens.read_text().split("\n", 1)[0] if entry.tokens else None
        for item_id in ids:  # the cache warm: every measured read is a hit
            get(f"{entry.base}/items/{item_id}", token=token)
        servers.append(entry)
    return ids


def measure(
    wrk: str, scratch: Path, ids: list[str], everyone: list[Server], options: argparse.Namespace
) -> None:
    """Load each server in turn, rounds in alternating order, at both connection counts."""
    ids_file = scratch / "ids.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    script = scratch / "random-item.lua"
    script.write_text(WRK_SCRIPT)
    for entry in everyone:  # warm up: pools, connections, caches
        load(wrk, entry.base, script, ids_file, options.connections, 2, entry.tokens)
    for round_number in range(options.rounds):
        order = everyone if round_number % 2 == 0 else list(reversed(everyone))
        for entry in order:
            for connections in (options.connections, options.tail_connections):
                result = load(wrk, entry.base, script, ids_file, connections, options.duration,
                              entry.tokens)  # fmt: skip
                entry.results.setdefault(connections, []).append(result)
                print(f"round {round_number + 1}, {entry.name:<22} {connections:>2} conn: "
                      f"{result.describe()}", flush=True)  # fmt: skip


def report(
    floor: Server,
    bare: Server,
    servers: list[Server],
    missing: list[str],
    options: argparse.Namespace,
) -> None:
    wide, tail = options.connections, options.tail_connections
    floor_rps = floor.median(wide, "per_second")
    floor_p99 = floor.median(tail, "p99_ms")
    floor_us = 1e6 / floor_rps
    print(
        f"\nGET /items/{{id}}, {options.items} random items, wrk -t1, {options.duration} s x"
        f" {options.rounds} rounds (medians); req/s at {wide} connections,"
        f" latency at {tail}:"
    )
    header = (
        f"{'server':<22}{'req/s':>8}{'x floor':>9}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'p99 x floor':>12}{'us/req':>8}{'adds us':>9}{'adds %':>8}"
        f"{'cpu us':>8}{'adds cpu':>10}{'adds %':>8}"
    )
    print(header)
    print("-" * len(header))
    floor_cpu = floor.median(wide, "cpu_us_per_request")
    everyone = {entry.name: entry for entry in (floor, bare, *servers)}
    for entry in everyone.values():
        rps = entry.median(wide, "per_second")
        us = 1e6 / rps
        cpu = entry.median(wide, "cpu_us_per_request")
        adds = f"{'':17}{cpu:8.0f}"
        if entry.over:  # what it adds over the configuration before it
            over = everyone[entry.over]
            over_us = 1e6 / over.median(wide, "per_second")
            over_cpu = over.median(wide, "cpu_us_per_request")
            adds = (
                f"{us - over_us:9.0f}{100 * (us - over_us) / floor_us:7.0f}%"
                f"{cpu:8.0f}{cpu - over_cpu:10.0f}{100 * (cpu - over_cpu) / floor_cpu:7.0f}%"
            )
        print(
            f"{entry.name:<22}{rps:8.0f}{rps / floor_rps:9.2f}{entry.median(tail, 'p50_ms'):8.2f}"
            f"{entry.median(tail, 'p99_ms'):8.2f}{entry.median(tail, 'p99_ms') / floor_p99:12.2f}"
            f"{us:8.0f}{adds}"
        )
    print(
        "us/req = 1e6 / req/s (wall time, shared cores included); cpu us = the server process's"
        " user + system CPU per request (what contention for the cores changes least)"
    )
    if missing:
        print(f"not available in the catalog yet: {', '.join(missing)}")
    errors = sum(r.socket_errors + r.non_2xx for s in (floor, bare, *servers)
                 for rs in s.results.values() for r in rs)  # fmt: skip
    print(f"errors (socket + non-2xx) over all runs: {errors}")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print("targets: caching >= 0.75x floor req/s and p99 <= 1.5x; all request-path >= 0.5x")


if __name__ == "__main__":
    main()
