"""Print the routing overhead of `sharding` per request, and replica against primary reads under a
write load, measured side by side in one run.

Run (services up: `scripts/services up`, `eval "$(scripts/services env)"`):

    .venv/bin/python benchmarks/sharding_overhead.py [--requests 2000] [--rounds 3] [--items 500]
        [--chunk 100] [--cpu N] [--baseline REF] [--calls N] [--profile DIR] [--per-shard]
        [--quick]

Two projects are rendered through `scaffold new`'s code path and run with the matrix's shared
environment: one without capabilities (the single-database baseline) and one with `sharding`
(two shards on the POSTGRES_SHARD_URLS servers, a replica of shard 0 at POSTGRES_REPLICA_URL),
each on fresh databases of its own. A worker process per mode builds the app, runs its
lifespan, creates `--items` items with one client (the writer), and then times sequential
`GET /items/{id}` calls in-process (httpx's ASGI transport: no sockets) when told to. Each
round starts one worker per mode and interleaves them: `--chunk` reads of each mode in turn
(the order reversed at every turn) until each has timed `--requests`, so a change in the
machine's load falls on every mode alike; the modes under writes are a second group of the
round, with pgbench running for the whole group. A worker waiting for its turn is blocked,
its event loop too: its background tasks (the replica poll, the map refresh) run in its own
turns, as they ran only in its own run when each mode had the machine to itself. `--cpu N`
pins every worker to CPU N (`os.sched_setaffinity`: one worker reads at a time, and the
scheduler does not move it).

The reader is another client than the writer unless said. What each read of a mode times is
the client's request (httpx: building it, its cookie jar, the ASGI transport) and the app's
handling of it, in one process:

- `baseline`        the project without sharding, a client with an empty cookie jar;
- `baseline, cookie` the same, the client's jar holding one cookie of the consistency token's
                    name, size and shape (put there by a `Set-Cookie` response, as the writer's
                    is), which httpx matches and sends with every read and the app ignores: the
                    client's cookie work of `sharded, writer`, without the app's token handling;
- `sharded`         sharding with every read on the primaries (REPLICA_READS_ENABLED=false):
                    the routing alone (session choosers, map lookups, token middleware), for a
                    reader without a token (one that wrote nothing in the cookie's lifetime);
- `sharded, REF`    with `--baseline REF`: the same, with the sharding package's plain .py
                    files of git REF (`budget_baseline.as_of`): a change before and after;
- `sharded, token`  the same, the reader sending the last write's token as the
                    `X-Consistency-Token` header (checked, then unused: reads are on primaries);
- `sharded, writer` the same, read by the writer's client, whose jar holds the token cookie its
                    writes were given: the client's cookie work, and the app's finding and
                    checking of the cookie's token; compared with `baseline, cookie`, whose
                    client does the same work;
- `sharded, shard N keys` with `--per-shard`: `sharded`, reading only the items of shard N
                    (N = 0: the baseline's server; 1: the second server): the routing's cost
                    without the second server's, and that server's own;
- `primary, writes` and `replica, writes`: the writer's own reads (its cookie sent) while
                    pgbench writes to shard 0's primary (its own table, one client), from the
                    primary or from the replica (its token keeps a read on the primary until the
                    replica has replayed the writes).

The overhead of a mode is printed two ways: its p50 over all its reads minus its reference's
(`baseline`, or `baseline, cookie` for `sharded, writer`), and the paired differences: each
turn's p50 of the mode's chunk minus the same turn's p50 of its reference's chunk, their median
and quartiles (each pair timed within about a second: the machine's drift over a run cancels).
The CPU time of the worker process over its timed reads is printed per read too (the app's
work and the client's, its background tasks included, the databases' not): contention for the
cores stretches wall time far more than it. `--calls N` also counts the Python calls of N more
reads per mode and round under cProfile (after the timed ones): a measure the load on the
machine does not change; `--profile DIR` keeps those profiles (`DIR/<mode>-<round>.prof`).
`--quick` leaves out the two modes under writes. (Hardware instruction counters, `perf stat -e
instructions`, are not available on every machine, virtual ones in particular: not used.)

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
REFERENCE = {"sharded": "baseline", OLD: "baseline", "sharded, token": "baseline",
             "sharded, writer": "baseline, cookie"}  # fmt: skip
WORKER = """
import asyncio, cProfile, importlib, json, os, pstats, sys, time
import httpx
from httpx import ASGITransport, AsyncClient

if os.environ.get("BENCH_CPU"):
    os.sched_setaffinity(0, {int(os.environ["BENCH_CPU"])})
package = os.environ["BENCH_PACKAGE"]
create_app = importlib.import_module(f"{package}.main").create_app
Settings = importlib.import_module(f"{package}.config").Settings
reader_kind = os.environ.get("BENCH_READER", "other")
# A token of two shards, as the sharded writer's cookie holds after writes to both.
COOKIE = "consistency_token=0:0/4D2C8A10.1:0/3B7E1F28; Path=/; Max-Age=6; HttpOnly; SameSite=Lax"


def command() -> list[str]:
    # Blocking, the event loop too: a worker's background tasks (the replica poll, the map
    # refresh) run in its turns only, not while another mode's reads are timed.
    return sys.stdin.readline().split()


def answer(value: object) -> None:  # the app's logs are on stdout too (JSON lines)
    print("bench: " + json.dumps(value), flush=True)


async def main() -> None:
    app = create_app(Settings())
    items = int(sys.argv[1])
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
        if os.environ.get("BENCH_SHARD"):  # only the keys one shard holds
            shard_map = app.state.sharding.shard_map()
            ids = [i for i in ids if shard_map.shard_of(i) == int(os.environ["BENCH_SHARD"])]
        reader, headers = (writer, {}) if reader_kind == "writer" else (other, {})
        if reader_kind == "token":
            assert token, "the writes gave no consistency token"
            headers = {"X-Consistency-Token": token}
        if reader_kind == "cookie":  # the way the writer's jar got its cookie: a response's
            request = httpx.Request("POST", "http://bench/items")
            given = httpx.Response(201, headers={"set-cookie": COOKIE}, request=request)
            other.cookies.extract_cookies(given)
            assert len(other.cookies.jar) == 1
        # The writer's token sends a read to the primary until the replica has the item.
        await asyncio.sleep(float(os.environ.get("BENCH_SETTLE_SECONDS", "0")))
        for item_id in ids[:200]:  # warm up: pools, caches of SQLAlchemy's compiled statements
            response = await reader.get(f"/items/{item_id}", headers=headers)
            assert response.status_code == 200, response.text
        done = 0
        answer("ready")
        while True:
            verb, *count = command()
            if verb == "read":
                timings = []
                cpu_started = time.process_time()
                for n in range(done, done + int(count[0])):
                    started = time.perf_counter()
                    response = await reader.get(f"/items/{ids[n % len(ids)]}", headers=headers)
                    timings.append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text
                done += int(count[0])
                answer({"timings": timings, "cpu": time.process_time() - cpu_started})
            elif verb == "calls":  # apart from the timed reads: the profiler slows what it counts
                profile = cProfile.Profile()
                profile.enable()
                for n in range(int(count[0])):
                    await reader.get(f"/items/{ids[n % len(ids)]}", headers=headers)
                profile.disable()
                if os.environ.get("BENCH_PROFILE"):
                    profile.dump_stats(os.environ["BENCH_PROFILE"])
                answer(pstats.Stats(profile).total_calls / int(count[0]))
            else:
                break
        stats = getattr(app.state, "sharding", None)
        reads = {f"{k[0]}:{k[1]}": v for k, v in stats.stats.reads.items()} if stats else {}
    answer(reads)


asyncio.run(main())
"""


class Worker:
    """One mode's worker process, reading when told to."""

    def __init__(self, python: Path, script: Path, items: int, project: Path, env: dict) -> None:
        self.process = subprocess.Popen(
            [str(python), str(script), str(items)], cwd=project, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip

    def ask(self, line: str) -> object:
        assert self.process.stdin is not None and self.process.stdout is not None
        if line:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the worker stopped (exit code {self.process.wait()})")
            if line.startswith("bench: "):
                return json.loads(line.removeprefix("bench: "))
            sys.stderr.write(line)  # the app's log

    def end(self) -> dict[str, int]:
        reads = self.ask("end")
        self.process.wait(timeout=60)
        return reads  # type: ignore[return-value]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--chunk", type=int, default=100,
                        help="reads of a mode in a turn before the next mode's")  # fmt: skip
    parser.add_argument("--cpu", type=int, default=None, metavar="N",
                        help="pin every worker process to CPU N")  # fmt: skip
    parser.add_argument(
        "--baseline",
        metavar="REF",
        default="",
        help="also time the sharded reads with the sharding code of git REF",
    )
    parser.add_argument("--calls", type=int, default=0, metavar="N",
                        help="also count Python calls per read over N profiled reads")  # fmt: skip
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR",
                        help="with --calls: keep each mode's profile in DIR")  # fmt: skip
    parser.add_argument("--per-shard", action="store_true",
                        help="also time reads of one shard's keys, for each shard")  # fmt: skip
    parser.add_argument("--quick", action="store_true",
                        help="the routing overhead only: no reads under writes")  # fmt: skip
    return parser.parse_args()


def main() -> None:
    options = arguments()
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
        script = scratch / "worker.py"
        script.write_text(WORKER)
        name = f"shard_bench_{secrets.token_hex(4)}"
        plain_url = stack.enter_context(fresh_database(os.environ["DATABASE_URL"], name + "_p"))
        shard_urls = [stack.enter_context(fresh_database(server, name)) for server in servers[:2]]
        replica = urlunsplit(urlsplit(os.environ["POSTGRES_REPLICA_URL"])._replace(path=f"/{name}"))
        base = {**os.environ, "LOG_LEVEL": "WARNING", "PYTHONDONTWRITEBYTECODE": "1"}
        base.pop("VIRTUAL_ENV", None)
        if options.cpu is not None:
            base["BENCH_CPU"] = str(options.cpu)
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
            "baseline, cookie": (plain, {**plain_env, "BENCH_READER": "cookie"}, False),
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
            modes = {**dict(list(modes.items())[:3]), OLD: (old, old_env, False),
                     **dict(list(modes.items())[3:])}  # fmt: skip
        if options.per_shard:
            at = list(modes).index("sharded, writer") + 1
            shards = {f"sharded, shard {n} keys": (sharded, {**primaries, "BENCH_SHARD": str(n)},
                      False) for n in range(len(shard_urls))}  # fmt: skip
            modes = {**dict(list(modes.items())[:at]), **shards, **dict(list(modes.items())[at:])}
        if options.profile:
            options.profile.mkdir(parents=True, exist_ok=True)
        run = Run(options, python, script, modes)
        for round_number in range(options.rounds):
            run.group(round_number, [m for m, (_, _, writing) in modes.items() if not writing])
            if not options.quick:
                with write_load(shard_urls[0]):
                    run.group(round_number, [m for m, (_, _, writing) in modes.items() if writing])
    run.report()


class Run:
    """The rounds' measurements, mode by mode."""

    def __init__(
        self,
        options: argparse.Namespace,
        python: Path,
        script: Path,
        modes: dict[str, tuple[Path, dict[str, str], bool]],
    ) -> None:
        self.options, self.python, self.script, self.modes = options, python, script, modes
        self.timings: dict[str, list[float]] = {}
        self.turns: list[dict[str, float]] = []
        """Each turn's p50 of each mode's chunk (the modes of one group)."""
        self.cpu: dict[str, list[float]] = {}
        self.calls: dict[str, list[float]] = {}
        self.reads: dict[str, dict[str, int]] = {}

    def group(self, round_number: int, names: list[str]) -> None:
        """Start a worker per mode, then time `--chunk` reads of each in turn."""
        options = self.options
        workers: dict[str, Worker] = {}
        try:
            for mode in names:
                project, env, _ = self.modes[mode]
                if options.profile:
                    slug = mode.replace(", ", "-").replace(" ", "-")
                    env = {
                        **env,
                        "BENCH_PROFILE": str(options.profile / f"{slug}-{round_number}.prof"),
                    }
                workers[mode] = Worker(self.python, self.script, options.items, project, env)
            for worker in workers.values():
                assert worker.ask("") == "ready"
            timings: dict[str, list[float]] = {mode: [] for mode in names}
            cpu = dict.fromkeys(names, 0.0)
            done, turn = 0, 0
            while done < options.requests:
                count = min(options.chunk, options.requests - done)
                order = names if (round_number + turn) % 2 == 0 else names[::-1]
                p50s: dict[str, float] = {}
                for mode in order:
                    measured = workers[mode].ask(f"read {count}")
                    assert isinstance(measured, dict)
                    timings[mode] += measured["timings"]
                    cpu[mode] += measured["cpu"]
                    p50s[mode] = statistics.median(measured["timings"])
                self.turns.append(p50s)
                done, turn = done + count, turn + 1
            for mode in names:
                if options.calls:
                    counted = workers[mode].ask(f"calls {options.calls}")
                    self.calls.setdefault(mode, []).append(float(counted))  # type: ignore[arg-type]
                self.reads[mode] = workers[mode].end()
                self.timings.setdefault(mode, []).extend(timings[mode])
                self.cpu.setdefault(mode, []).append(cpu[mode] / options.requests)
                print(f"round {round_number + 1}, {mode:<21} {describe(timings[mode])}", flush=True)
        finally:
            for worker in workers.values():
                worker.kill()

    def report(self) -> None:
        options = self.options
        print(
            f"\nGET /items/{{id}}, in-process, {options.requests} requests x {options.rounds} "
            f"rounds, in turns of {options.chunk}"
            + (f", workers on CPU {options.cpu}" if options.cpu is not None else "")
        )
        if options.baseline:
            print(f"  ({OLD}: the sharding code of git {options.baseline})")
        for mode, timings in self.timings.items():
            where = ", ".join(f"{k} {v}" for k, v in sorted(self.reads.get(mode, {}).items()))
            print(f"  {mode:<21} {describe(timings)}  {('reads: ' + where) if where else ''}")
        print("CPU per read (the worker process's, over the timed reads; median, least of rounds):")
        for mode, seconds in self.cpu.items():
            print(f"  {mode:<21} {statistics.median(seconds) * 1000:.3f} ms, "
                  f"{min(seconds) * 1000:.3f} ms")  # fmt: skip
        if options.calls:
            print(f"Python calls per read (cProfile, {options.calls} reads a round, median):")
            for mode, counts in self.calls.items():
                print(f"  {mode:<21} {statistics.median(counts):,.0f}")
        print("routing overhead p50 (target <= 0.1 ms): all reads' p50 minus the reference's; "
              "paired: each turn's difference, median [quartiles], turns above 0")  # fmt: skip
        references = {**REFERENCE, **{m: "baseline" for m in self.timings if " keys" in m}}
        for mode, reference in references.items():
            if mode not in self.timings:
                continue
            overall = statistics.median(self.timings[mode]) - statistics.median(
                self.timings[reference]
            )
            paired = sorted(
                t[mode] - t[reference] for t in self.turns if mode in t and reference in t
            )
            low, _, high = statistics.quantiles(paired, n=4) if len(paired) > 1 else paired * 3
            above = sum(1 for d in paired if d > 0)
            print(f"  {mode:<21} - {reference:<16} {overall * 1000:+.3f} ms; paired "
                  f"{statistics.median(paired) * 1000:+.3f} ms "
                  f"[{low * 1000:+.3f}, {high * 1000:+.3f}], {above} of {len(paired)}")  # fmt: skip
        if "primary, writes" in self.timings:
            primary = statistics.median(self.timings["primary, writes"])
            replica = statistics.median(self.timings["replica, writes"])
            paired = [
                t["replica, writes"] - t["primary, writes"]
                for t in self.turns
                if "replica, writes" in t
            ]
            print(f"under writes, p50 from the replica {replica * 1000:.3f} ms, from the primary "
                  f"{primary * 1000:.3f} ms; paired replica - primary "
                  f"{statistics.median(paired) * 1000:+.3f} ms")  # fmt: skip


@contextmanager
def write_load(database_url: str) -> Iterator[None]:
    """pgbench inserting rows into a table of its own on shard 0's primary, one client."""
    psql = ["psql", database_url, "-q", "-v", "ON_ERROR_STOP=1", "-c"]
    subprocess.run(
        [*psql, "SET client_min_messages = warning; "
         "CREATE TABLE IF NOT EXISTS bench_load (n int, payload text)"], check=True
    )  # fmt: skip
    script = Path(tempfile.mkstemp(suffix=".sql")[1])
    script.write_text(
        "INSERT INTO bench_load SELECT n, repeat('x', 200) FROM generate_series(1, 50) n;\n"
    )
    process = subprocess.Popen(
        ["pgbench", "-n", "-c", "1", "-T", "3600", "-f", str(script), database_url],
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


if __name__ == "__main__":
    main()
