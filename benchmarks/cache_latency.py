"""Print GET /items/{id} latency (p50/p95/p99) and requests/s with the cache on and off, same run.

Run (services up: `scripts/services up`, `eval "$(scripts/services env)"`; wrk from Debian:
`apt-get install -y wrk`):

    .venv/bin/python benchmarks/cache_latency.py [--duration 8] [--connections 1,4,8]
        [--items 1000] [--rounds 2]

A project with `caching` is rendered through `scaffold new`'s own code path and run with the
matrix's shared environment (`.cache/generated-venv`). On a fresh database of the PostgreSQL at
DATABASE_URL it is migrated and seeded with `--items` items; then two uvicorn servers of it run
on loopback against the Redis at REDIS_URL (keys under a random prefix, deleted afterwards):
one with CACHE_ENABLED=true (its cache filled first by reading every item once) and one with
CACHE_ENABLED=false. For each number of concurrent connections, wrk loads each server in turn,
`--rounds` times in alternating order, requesting random items. Both servers log at WARNING, so
neither pays for a line per request. Target: p95 at least 50% lower with the cache. Numbers
only; nothing here asserts a time.

Both servers are saturated from about 4 connections on, and then the tail is CPython's: a full
(generation 2) garbage collection rescans the whole heap of the app and stalls every request in
flight for tens of milliseconds, more often the more requests a second the process serves.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.budget_servers import WRK_SCRIPT, Result, get, load, seed, server  # noqa: E402
from tests.matrix.runtime_checks import fresh_database  # noqa: E402
from tests.support.render import project_and_python  # noqa: E402

PROJECT = "bench-svc"
PACKAGE = "bench_svc"
UVICORN = ["--factory", f"{PACKAGE}.main:create_app"]
SERVICES_HINT = 'run `scripts/services up` and `eval "$(scripts/services env)"`'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per measurement")
    parser.add_argument(
        "--connections", default="1,4,8", help="wrk connections, comma-separated (default 1,4,8)"
    )
    parser.add_argument("--items", type=int, default=1000, help="items seeded and requested")
    parser.add_argument("--rounds", type=int, default=2, help="measurements of each mode")
    options = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            sys.exit(f"{name} is not set: {SERVICES_HINT}")
    wrk = shutil.which("wrk") or sys.exit("wrk is not installed: apt-get install -y wrk")
    levels = [int(level) for level in options.connections.split(",")]

    with tempfile.TemporaryDirectory(prefix="cache-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        project, python = render(scratch)
        database = f"cache_bench_{secrets.token_hex(4)}"
        with fresh_database(os.environ["DATABASE_URL"], database) as database_url:
            prefix = f"cache_bench_{secrets.token_hex(4)}"
            env = {
                **os.environ,
                "DATABASE_URL": database_url,
                "REDIS_KEY_PREFIX": prefix,
                "LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(project / "src"),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
            env.pop("VIRTUAL_ENV", None)
            subprocess.run(
                [str(python), "-m", "alembic", "upgrade", "head"], cwd=project, env=env, check=True
            )
            ids = seed(database_url, options.items)
            ids_file = scratch / "ids.txt"
            ids_file.write_text("\n".join(ids) + "\n")
            script = scratch / "random-item.lua"
            script.write_text(WRK_SCRIPT)
            try:
                with (
                    server(python, project, {**env, "CACHE_ENABLED": "true"}, UVICORN) as cached,
                    server(python, project, {**env, "CACHE_ENABLED": "false"}, UVICORN) as uncached,
                ):
                    for item_id in ids:  # fill the cache: every measured read is a hit
                        get(f"{cached}/items/{item_id}")
                    bases = {"cache on": cached, "cache off": uncached}
                    for base in bases.values():  # warm up both: pools, connections
                        load(wrk, base, script, ids_file, connections=8, seconds=3)
                    results: dict[tuple[int, str], list[Result]] = {}
                    for connections in levels:
                        for round_number in range(options.rounds):
                            modes = list(bases) if round_number % 2 == 0 else list(reversed(bases))
                            for mode in modes:
                                result = load(
                                    wrk, bases[mode], script, ids_file, connections,
                                    seconds=options.duration,
                                )  # fmt: skip
                                results.setdefault((connections, mode), []).append(result)
                                print(f"{connections:>2} conn, round {round_number + 1}, {mode:<9}"
                                      f" {result.describe()}")  # fmt: skip
                    stats = json.loads(get(f"{cached}/cache/stats"))
            finally:
                delete_keys(python, env, prefix)
    report(results, stats, options)


def render(scratch: Path) -> tuple[Path, Path]:
    """The project, and the matrix's shared interpreter (built from the same samples)."""

    return project_and_python(scratch, PROJECT, ("caching",))


def delete_keys(python: Path, env: dict[str, str], prefix: str) -> None:
    code = (
        "import os, redis; r = redis.Redis.from_url(os.environ['REDIS_URL']); "
        f"keys = list(r.scan_iter(match='{prefix}:*', count=1000)); keys and r.unlink(*keys)"
    )
    subprocess.run([str(python), "-c", code], env=env, check=False)


def report(
    results: dict[tuple[int, str], list[Result]],
    stats: dict[str, int],
    options: argparse.Namespace,
) -> None:
    def median(key: tuple[int, str], field: str) -> float:
        return statistics.median(getattr(result, field) for result in results[key])

    print(
        f"\nGET /items/{{id}}, {options.items} random items, wrk 1 thread, {options.duration} s x"
        f" {options.rounds} rounds per mode and connection count (medians):"
    )
    print(f"{'conn':>4}  {'mode':<10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>10}")
    for connections, mode in results:
        key = (connections, mode)
        print(
            f"{connections:>4}  {mode:<10}{median(key, 'p50_ms'):9.2f}{median(key, 'p95_ms'):9.2f}"
            f"{median(key, 'p99_ms'):9.2f}{median(key, 'per_second'):10.0f}"
        )
    for connections in sorted({connections for connections, _ in results}):
        on = median((connections, "cache on"), "p95_ms")
        off = median((connections, "cache off"), "p95_ms")
        print(
            f"{connections:>2} connections: p95 with the cache is {100 * (1 - on / off):.0f}% lower"
            " (target: at least 50%)"
        )
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    total = stats["hits"] + stats["misses"]
    print(
        f"cache-on server: {stats['hits']} hits, {stats['misses']} misses "
        f"({100 * stats['hits'] / max(total, 1):.1f}% hits), {stats['fallbacks']} fallbacks"
    )


if __name__ == "__main__":
    main()
