"""Print the routing overhead of `sharding` per request, and replica against primary reads under a
write load, measured side by side in one run.

Run (services up: `scripts/services up`, `eval "$(scripts/services env)"`):

    .venv/bin/python benchmarks/sharding_overhead.py [--requests 2000] [--rounds 3] [--items 500]
        [--baseline REF] [--calls N] [--quick]

Two projects are rendered through `scaffold new`'s code path and run with the matrix's shared
environment: one without capabilities (the single-database baseline) and one with `sharding`
(two shards on the POSTGRES_SHARD_URLS servers, a replica of shard 0 at POSTGRES_REPLICA_URL),
each on fresh databases of its own. A worker process per measurement builds the app, runs its
lifespan, creates `--items` items with one client (the writer), and times `--requests`
sequential `GET /items/{id}` calls in-process (httpx's ASGI transport: no sockets) with a
reader client. The reader is another client than the writer unless said: the writer's client
keeps the consistency-token cookie its writes were given, and httpx's cookie jar (client work,
absent from the baseline, whose writes set no cookie) would be timed with every read; a reader
that wrote in the last seconds sends its token, which `sharded, token` times.
Modes, alternated over `--rounds`:

- `baseline`        the project without sharding;
- `sharded`         sharding with every read on the primaries (REPLICA_READS_ENABLED=false):
                    the routing alone (session choosers, map lookups, token middleware), for a
                    reader without a token (one that wrote nothing in the cookie's lifetime);
- `sharded, REF`    with `--baseline REF`: the same, with the sharding package's plain .py
                    files of git REF (`budget_baseline.as_of`): a change before and after;
- `sharded, token`  the same, the reader sending the last write's token as the
                    `X-Consistency-Token` header (parsed, then unused: reads are on primaries);
- `sharded, writer` the same, read by the writer's client, its cookie sent: what this mode
                    timed before, httpx's cookie jar included;
- `primary, writes` and `replica, writes`: the writer's own reads (its cookie sent) while
                    pgbench writes to shard 0's primary (its own table, one client), from the
                    primary or from the replica (its token keeps a read on the primary until the
                    replica has replayed the writes).

The CPU time of the worker process over the timed reads is printed per read too (the app's
work and the client's, its background tasks included, the databases' not): contention for the
cores stretches wall time far more than it. `--calls N` also counts the Python calls of N more
reads per mode and round under cProfile (after the timed ones): a measure the load on the
machine does not change. `--quick` leaves out the two modes under writes.

Target: routing overhead at most 0.1 ms p50 per request. Numbers only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.budget_baseline import as_of  # noqa: E402
from tests.matrix.runtime_checks import fresh_database  # noqa: E402
from tests.support.render import render, shared_interpreter  # noqa: E402

OLD = "sharded, REF"
SERVICES_HINT = 'run `scripts/services up` and `eval "$(scripts/services env)"`'
WORKER = """
import asyncio, cProfile, importlib, json, os, pstats, sys, time
from httpx import ASGITransport, AsyncClient

package = os.environ["BENCH_PACKAGE"]
create_app = importlib.import_module(f"{package}.main").create_app
Settings = importlib.import_module(f"{package}.config").Settings
reader_kind = os.environ.get("BENCH_READER", "other")


async def main() -> None:
    app = create_app(Settings())
    requests, items, calls = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    transport = ASGITransport(app=app)
    async with app.router.lifespan_context(app), AsyncClient(
        transport=transport, base_url="http://bench"
    ) as writer, AsyncClient(transport=transport, base_url="http://bench") as other:
        ids, token = [], None
        for n in range(items):
            response = await writer.post("/items", json={"name": f"item {n}"})
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
            token = response.headers.get("x-consistency-token", token)
        reader, headers = (writer, {}) if reader_kind == "writer" else (other, {})
        if reader_kind == "token":
            assert token, "the writes gave no consistency token"
            headers = {"X-Consistency-Token": token}
        # The writer's token sends a read to the primary until the replica has the item.
        await asyncio.sleep(float(os.environ.get("BENCH_SETTLE_SECONDS", "0")))
        for item_id in ids[:200]:  # warm up: pools, caches of SQLAlchemy's compiled statements
            await reader.get(f"/items/{item_id}", headers=headers)
        timings = []
        cpu_started = time.process_time()
        for n in range(requests):
            started = time.perf_counter()
            response = await reader.get(f"/items/{ids[n % len(ids)]}", headers=headers)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
        cpu = (time.process_time() - cpu_started) / requests
        per_read = None
        if calls:  # counted apart from the timed reads: the profiler slows what it counts
            profile = cProfile.Profile()
            profile.enable()
            for n in range(calls):
                await reader.get(f"/items/{ids[n % len(ids)]}", headers=headers)
            profile.disable()
            per_read = pstats.Stats(profile).total_calls / calls
        stats = getattr(app.state, "sharding", None)
        reads = {f"{k[0]}:{k[1]}": v for k, v in stats.stats.reads.items()} if stats else {}
    print(json.dumps({"timings": timings, "reads": reads, "calls": per_read, "cpu": cpu}))


asyncio.run(main())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument(
        "--baseline",
        metavar="REF",
        default="",
        help="also time the sharded reads with the sharding code of git REF",
    )
    parser.add_argument("--calls", type=int, default=0, metavar="N",
                        help="also count Python calls per read over N profiled reads")  # fmt: skip
    parser.add_argument("--quick", action="store_true",
                        help="the routing overhead only: no reads under writes")  # fmt: skip
    options = parser.parse_args()
    for variable in ("DATABASE_URL", "POSTGRES_SHARD_URLS", "POSTGRES_REPLICA_URL"):
        if not os.environ.get(variable):
            sys.exit(f"{variable} is not set: {SERVICES_HINT}")
    servers = [url.strip() for url in os.environ["POSTGRES_SHARD_URLS"].split(",") if url.strip()]
    with tempfile.TemporaryDirectory(prefix="sharding-bench-") as scratch_dir, ExitStack() as stack:
        scratch = Path(scratch_dir)
        plain = render("bench-plain", scratch / "plain", ())
        sharded = render("bench-shard", scratch / "sharded", ("sharding",))
        python = shared_interpreter(scratch)
        if options.baseline:
            old = as_of(sharded, scratch / "sharded-old", options.baseline, "bench_shard")
        worker = scratch / "worker.py"
        worker.write_text(WORKER)
        name = f"shard_bench_{secrets.token_hex(4)}"
        plain_url = stack.enter_context(fresh_database(os.environ["DATABASE_URL"], name + "_p"))
        shard_urls = [stack.enter_context(fresh_database(server, name)) for server in servers[:2]]
        replica = urlunsplit(urlsplit(os.environ["POSTGRES_REPLICA_URL"])._replace(path=f"/{name}"))
        base = {**os.environ, "LOG_LEVEL": "WARNING", "PYTHONDONTWRITEBYTECODE": "1"}
        base.pop("VIRTUAL_ENV", None)
        plain_env = {**base, "DATABASE_URL": plain_url, "PYTHONPATH": str(plain / "src"),
                     "BENCH_PACKAGE": "bench_plain"}  # fmt: skip
        shard_env = {**base, "DATABASE_URL": shard_urls[0], "SHARD_URLS": shard_urls[1],
                     "PYTHONPATH": str(sharded / "src"), "BENCH_PACKAGE": "bench_shard",
                     "SHARD_REPLICA_URLS": f"0={replica}"}  # fmt: skip
        migrate = [str(python), "-m", "alembic", "upgrade", "heads"]
        subprocess.run(migrate, cwd=plain, env=plain_env, check=True, capture_output=True)
        subprocess.run(migrate, cwd=sharded, env=shard_env, check=True, capture_output=True)
        primaries = {**shard_env, "REPLICA_READS_ENABLED": "false"}
        modes = {
            "baseline": (plain, plain_env, False),
            "sharded": (sharded, primaries, False),
            "sharded, token": (sharded, {**primaries, "BENCH_READER": "token"}, False),
            "sharded, writer": (sharded, {**primaries, "BENCH_READER": "writer"}, False),
            "primary, writes": (sharded, {**primaries, "BENCH_READER": "writer"}, True),
            "replica, writes": (
                sharded, {**shard_env, "BENCH_READER": "writer", "BENCH_SETTLE_SECONDS": "1"}, True
            ),
        }  # fmt: skip
        if options.baseline:
            old_env = {**primaries, "PYTHONPATH": str(old / "src")}
            modes = {**dict(list(modes.items())[:2]), OLD: (old, old_env, False),
                     **dict(list(modes.items())[2:])}  # fmt: skip
        results: dict[str, list[float]] = {
            mode: [] for mode, (_, _, writing) in modes.items() if not (writing and options.quick)
        }
        measures: dict[str, dict[str, list[float]]] = {
            "calls": {mode: [] for mode in results},
            "cpu": {mode: [] for mode in results},
        }
        reads: dict[str, dict[str, int]] = {}
        for round_number in range(options.rounds):
            order = list(results) if round_number % 2 == 0 else list(reversed(results))
            for mode in order:
                project, env, writing = modes[mode]
                with write_load(shard_urls[0]) if writing else nothing():
                    done = subprocess.run(
                        [str(python), str(worker), str(options.requests), str(options.items),
                         str(options.calls)],
                        cwd=project, env=env, check=True, capture_output=True, text=True,
                    )  # fmt: skip
                measured = json.loads(done.stdout.strip().splitlines()[-1])
                results[mode] += measured["timings"]
                reads[mode] = measured["reads"]
                for name, by_mode in measures.items():
                    if measured[name] is not None:
                        by_mode[mode].append(measured[name])
                print(f"round {round_number + 1}, {mode:<16} {describe(measured['timings'])}")
    report(results, reads, measures["calls"], measures["cpu"], options)


@contextmanager
def nothing() -> Iterator[None]:
    yield


@contextmanager
def write_load(database_url: str) -> Iterator[None]:
    """pgbench inserting rows into a table of its own on shard 0's primary, one client."""
    psql = ["psql", database_url, "-q", "-v", "ON_ERROR_STOP=1", "-c"]
    subprocess.run(
        [*psql, "CREATE TABLE IF NOT EXISTS bench_load (n int, payload text)"], check=True
    )
    script = Path(tempfile.mkstemp(suffix=".sql")[1])
    script.write_text(
        "INSERT INTO bench_load SELECT n, repeat('x', 200) FROM generate_series(1, 50) n;\n"
    )
    process = subprocess.Popen(
        ["pgbench", "-n", "-c", "1", "-T", "600", "-f", str(script), database_url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)
        script.unlink()
        subprocess.run([*psql, "TRUNCATE bench_load"], check=True)


def describe(timings: list[float]) -> str:
    ordered = sorted(timings)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[int(len(ordered) * 0.95)] * 1000
    return f"p50 {p50:.3f} ms  p95 {p95:.3f} ms  ({len(ordered)} requests)"


def report(
    results: dict[str, list[float]],
    reads: dict[str, dict[str, int]],
    calls: dict[str, list[float]],
    cpu: dict[str, list[float]],
    options: argparse.Namespace,
) -> None:
    print(f"\nGET /items/{{id}}, in-process, {options.requests} requests x {options.rounds} rounds")
    if options.baseline:
        print(f"  ({OLD}: the sharding code of git {options.baseline})")
    for mode, timings in results.items():
        where = ", ".join(f"{k} {v}" for k, v in sorted(reads.get(mode, {}).items()))
        print(f"  {mode:<16} {describe(timings)}  {('reads: ' + where) if where else ''}")
    print("CPU per read (the worker process's, over the timed reads; median, least of rounds):")
    for mode, seconds in cpu.items():
        print(f"  {mode:<16} {statistics.median(seconds) * 1000:.3f} ms, "
              f"{min(seconds) * 1000:.3f} ms")  # fmt: skip
    if options.calls:
        print(f"Python calls per read (cProfile, {options.calls} reads a round, median of rounds):")
        for mode, counts in calls.items():
            print(f"  {mode:<16} {statistics.median(counts):,.0f}")
    baseline = statistics.median(results["baseline"])
    for mode in ("sharded", OLD, "sharded, token", "sharded, writer"):
        if mode in results:
            overhead = statistics.median(results[mode]) - baseline
            print(f"routing overhead p50, {mode}: {overhead * 1000:+.3f} ms per request "
                  "(target <= 0.1 ms)")  # fmt: skip
    if "primary, writes" in results:
        primary = statistics.median(results["primary, writes"])
        replica = statistics.median(results["replica, writes"])
        print(f"under writes, p50 from the replica {replica * 1000:.3f} ms, "
              f"from the primary {primary * 1000:.3f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
