"""Python calls and CPU per warm cached read, in-process: what a change to the request path saves,
in measures the load on the machine changes least.

Run (services up: `scripts/services up`, `eval "$(scripts/services env)"`):

    .venv/bin/python benchmarks/request_calls.py --with caching [--with rate_limiting ...]
        [--baseline main [--baseline REF ...]] [--requests 2000] [--rounds 5] [--top 30]
        [--instructions] [--output DIR]

The configuration is rendered through `scaffold new`'s code path, migrated and seeded (as
`request_budget.py` does); `--baseline REF` also runs it from a copy holding the service
package's plain `.py` files of git REF (each REF, when repeated: a series of cuts side by side),
and the hand-written floor (`budget_reference.py`) runs beside them. Each server is an app in a
process of its own, driven through its ASGI interface (no sockets, no uvicorn: the same for
every row) one request at a time, `GET /items/{id}` of a random seeded item with the cache warm
(with `auth`, the provider's bearer token, the same on every request); `--concurrency N` keeps
N requests in flight instead, so what concurrent requests share (the rate limiter's batched
check, the cache's batched read) is counted too. The processes take their rounds in turn, so
the old and the new code share the load of each moment. Printed per server: Python function
calls per request (cProfile's count, which no load changes), the CPU of a request without the
profiler (`time.process_time`, the median and the least of the rounds: contention for the cores
changes it far less than wall time, and the least least of all) and each as a multiple of the
floor's. `--top N` prints the profile's top functions of each server, `--output DIR` keeps the
profiles.
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
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import budget_auth  # noqa: E402
from benchmarks.budget_baseline import as_of  # noqa: E402
from benchmarks.budget_reference import FLOOR_APP, delete_keys, set_floor_keys  # noqa: E402
from benchmarks.request_budget import (  # noqa: E402
    PACKAGE,
    SERVICES_HINT,
    bench_environment,
    prepare,
    render_config,
)
from tests.support.render import shared_interpreter  # noqa: E402

# One server's process: builds the app, runs its lifespan, warms the cache, then answers each
# line of its standard input ("round N" or "profile N TOP [FILE]") with a line "@@ <JSON>" (the
# app's own log lines go to the same standard output).
DRIVER = """
import asyncio, cProfile, importlib, io, json, os, pstats, random, sys, time

try:
    import uvloop
    uvloop.install()
except ImportError:
    pass

target, ids_file, token = sys.argv[1], sys.argv[2], sys.argv[3]
concurrency = int(sys.argv[4])
ids = open(ids_file).read().split()
module_name, _, attribute = target.partition(":")
factory = getattr(importlib.import_module(module_name), attribute.rstrip("()"))
app = factory() if attribute.endswith("()") else factory
headers = [(b"host", b"127.0.0.1"), (b"user-agent", b"request-calls"), (b"accept", b"*/*")]
if token:
    headers.append((b"authorization", b"Bearer " + token.encode()))


async def one(item_id):
    path = f"/items/{item_id}"
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
        "raw_path": path.encode(), "root_path": "", "query_string": b"",
        "headers": list(headers), "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000), "state": {},
    }
    status = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    if status != [200]:
        raise SystemExit(f"GET {path}: {status}")


async def serial(count):
    choice = random.choice
    for _ in range(count):
        await one(choice(ids))


async def batch(count):
    if concurrency == 1:
        await serial(count)
        return
    share, rest = divmod(count, concurrency)
    await asyncio.gather(*(serial(share + (n < rest)) for n in range(concurrency)))


async def serve():
    async with app.router.lifespan_context(app):
        for item_id in ids:
            await one(item_id)
        await batch(500)
        print("@@", json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            command, count, *rest = line.split()
            count = int(count)
            if command == "round":
                started = time.process_time()
                await batch(count)
                cpu = time.process_time() - started
                print("@@", json.dumps({"cpu_us": 1e6 * cpu / count}), flush=True)
            else:
                profiler = cProfile.Profile()
                profiler.enable()
                await batch(count)
                profiler.disable()
                stats = pstats.Stats(profiler)
                if len(rest) > 1:
                    stats.dump_stats(rest[1])
                out = io.StringIO()
                if int(rest[0]):
                    stats.stream = out
                    stats.strip_dirs().sort_stats("tottime").print_stats(int(rest[0]))
                answer = {"calls": stats.total_calls / count, "top": out.getvalue()}
                print("@@", json.dumps(answer), flush=True)


asyncio.run(serve())
"""


SLOW_MOTION = {
    "REDIS_SOCKET_TIMEOUT_SECONDS": "5",
    "RATE_LIMIT_TIMEOUT_SECONDS": "5",
    "CACHE_TTL_SECONDS": "3600",
    "TENANT_CACHE_SECONDS": "300",  # its most
    # Every trace dropped, as 9 of 10 are at the default ratio: a sampled one costs several
    # times as much, and a round's few sampled requests would differ from round to round.
    "OTEL_TRACES_SAMPLER_ARG": "0",
}


@dataclass
class Process:
    name: str
    process: subprocess.Popen[str]
    cpu_us: list[float] = field(default_factory=list)
    """With --instructions: instructions per request (thousands), not microseconds."""
    calls: float = 0.0
    top: str = ""
    logged: list[str] = field(default_factory=list)
    """What the app logged while measured (at WARNING: a round that did not go as it should)."""

    def ask(self, command: str) -> dict[str, object]:
        assert self.process.stdin is not None and self.process.stdout is not None
        if command:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        while (line := self.process.stdout.readline()).startswith("@@ ") is False:
            if not line:
                sys.exit(f"{self.name}: the driver ended (exit {self.process.wait()})")
            self.logged.append(line.rstrip("\n"))  # a warning: a deadline missed, a fallback
        answer: dict[str, object] = json.loads(line[3:])
        return answer


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with", dest="capabilities", action="append", default=[])
    parser.add_argument(
        "--baseline",
        metavar="REF",
        action="append",
        default=[],
        help="also run the code of git REF (again for several: each cut of a series)",
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="requests in flight at once (default 1: one at a time); above 1, what concurrent"
        " requests share (a batched Redis round trip) is counted too",
    )
    parser.add_argument("--top", type=int, default=0, help="print each profile's top N")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per request under callgrind instead of CPU time (slow)",
    )
    parser.add_argument("--output", type=Path, help="keep each raw profile (pstats) in this folder")
    parser.add_argument(
        "--trace-ratio",
        help="with --instructions: the traces sampled (OTEL_TRACES_SAMPLER_ARG; default 0, every"
        " trace dropped), to price a sampled request's span work",
    )
    parser.add_argument(
        "--traces-exporter",
        choices=("otlp", "console", "none"),
        help="OTEL_TRACES_EXPORTER (default: the service's, otlp): none prices the recording alone",
    )
    return parser.parse_args()


def main() -> None:
    options = parse_options()
    capabilities = tuple(options.capabilities) or ("caching",)
    for name in ["DATABASE_URL", "REDIS_URL", *(["OIDC_ISSUER"] if "auth" in capabilities else [])]:
        if not os.environ.get(name):
            sys.exit(f"{name} is not set: {SERVICES_HINT}")

    with tempfile.TemporaryDirectory(prefix="request-calls-") as scratch_dir, ExitStack() as stack:
        scratch = Path(scratch_dir)
        project = render_config(scratch, 0, capabilities)
        python = shared_interpreter(scratch)
        prefix = f"request_calls_{secrets.token_hex(4)}"
        stack.callback(delete_keys, python, prefix)
        base_env = bench_environment(prefix)
        env, ids = prepare(stack, project, python, base_env, prefix, 0, capabilities, [],
                           options.items)  # fmt: skip
        ids_file = scratch / "ids.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        token = ""
        if "auth" in capabilities:
            token = budget_auth.token_file(scratch).read_text().split("\n", 1)[0]
        if options.instructions:  # under callgrind the code runs ~50 times slower: deadlines
            env.update(SLOW_MOTION)  # and expiries that keep every measured read a warm hit
            if options.trace_ratio is not None:
                env["OTEL_TRACES_SAMPLER_ARG"] = options.trace_ratio
        if options.traces_exporter:
            env["OTEL_TRACES_EXPORTER"] = options.traces_exporter
        variants = [(" + ".join(capabilities), project, env)]
        for number, ref in enumerate(options.baseline):
            old = as_of(project, scratch / f"config0-{number}", ref)
            variants.insert(number, (f"{variants[-1][0]} ({ref})", old,
                                     {**env, "PYTHONPATH": str(old / "src")}))  # fmt: skip
        processes: list[Process] = []
        driver = scratch / "driver.py"
        driver.write_text(DRIVER)
        target = f"{PACKAGE}.main:create_app()"
        launcher = []
        if options.instructions:  # collection switched on around each round (callgrind_control)
            out = scratch / "callgrind.%p"
            launcher = ["valgrind", "-q", "--tool=callgrind", "--instr-atstart=no",
                        f"--callgrind-out-file={out}"]  # fmt: skip
        for name, folder, variant_env in variants:
            processes.append(start(stack, name, python, driver, folder, variant_env, target,
                                   ids_file, token, launcher, options.concurrency))  # fmt: skip
        # The floor serves the bytes the service answers (one item's, under every id).
        body = item_body(python, project, env, ids[0], token)
        set_floor_keys(python, base_env, dict.fromkeys(ids, body))
        (scratch / "floor_app.py").write_text(FLOOR_APP)
        floor_env = {**base_env, "PYTHONPATH": str(scratch)}
        processes.insert(0, start(stack, "floor", python, driver, scratch, floor_env,
                                  "floor_app:app", ids_file, "", launcher,
                                  options.concurrency))  # fmt: skip
        run_rounds(processes, options, scratch)
        report(processes, options)


def run_rounds(processes: list[Process], options: argparse.Namespace, scratch: Path) -> None:
    """The processes' rounds in turn, then one profiled round each."""
    for _ in range(options.rounds):
        for entry in processes:
            if options.instructions:
                entry.cpu_us.append(instructions(entry, options.requests, scratch) / 1000)
            else:
                answer = entry.ask(f"round {options.requests}")
                entry.cpu_us.append(float(answer["cpu_us"]))  # type: ignore[arg-type]
    for entry in processes:
        dump = ""
        if options.output:
            options.output.mkdir(parents=True, exist_ok=True)
            dump = f" {options.output.resolve() / (entry.name.replace(' ', '') + '.prof')}"
        answer = entry.ask(f"profile {options.requests} {options.top}{dump}")
        entry.calls, entry.top = float(answer["calls"]), str(answer["top"])  # type: ignore[arg-type]


def instructions(entry: Process, requests: int, out: Path) -> float:
    """Instructions per request of one round, every thread's, counted by callgrind: a count the
    load on the machine does not change (collection is on during the round alone)."""
    pid = str(entry.process.pid)
    for action in ("--zero", "--instr=on"):
        subprocess.run(["callgrind_control", action, pid], check=True, capture_output=True)
    entry.ask(f"round {requests}")
    for action in ("--dump", "--instr=off"):
        subprocess.run(["callgrind_control", action, pid], check=True, capture_output=True)
    dumps = sorted(out.glob(f"callgrind.{pid}.*"), key=lambda path: int(path.suffix[1:]))
    for line in dumps[-1].read_text().splitlines() if dumps else []:
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1]) / requests
    sys.exit(f"{entry.name}: callgrind wrote no totals in {out}")


def start(
    stack: ExitStack,
    name: str,
    python: Path,
    driver: Path,
    cwd: Path,
    env: dict[str, str],
    target: str,
    ids_file: Path,
    token: str,
    launcher: list[str],
    concurrency: int,
) -> Process:
    process = subprocess.Popen(
        [*launcher, str(python), str(driver), target, str(ids_file), token, str(concurrency)],
        cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    stack.callback(process.wait, 30)
    stack.callback(process.stdin.close)  # type: ignore[union-attr]
    entry = Process(name, process)
    entry.ask("")  # its "ready"
    entry.logged.clear()
    return entry


def item_body(python: Path, project: Path, env: dict[str, str], item_id: str, token: str) -> str:
    """The body the service answers for an item (the floor serves the same bytes)."""
    code = (
        "import asyncio, sys\n"
        "import httpx\n"
        f"from {PACKAGE}.main import create_app\n"
        "async def main():\n"
        "    app = create_app()\n"
        "    async with app.router.lifespan_context(app):\n"
        "        transport = httpx.ASGITransport(app=app)\n"
        "        headers = {'Authorization': f'Bearer {sys.argv[2]}'} if sys.argv[2] else {}\n"
        "        async with httpx.AsyncClient(transport=transport, base_url='http://t') as c:\n"
        "            r = await c.get(f'/items/{sys.argv[1]}', headers=headers)\n"
        "            r.raise_for_status(); sys.stdout.write(r.text)\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([str(python), "-c", code, item_id, token], cwd=project, env=env,
                          check=True, capture_output=True, text=True)  # fmt: skip
    return done.stdout


def report(processes: list[Process], options: argparse.Namespace) -> None:
    floor = processes[0]
    floor_cpu, floor_min = statistics.median(floor.cpu_us), min(floor.cpu_us)
    width = max(len(entry.name) for entry in processes) + 2
    print(
        f"\nGET /items/{{id}} in-process, {options.requests} requests x {options.rounds} rounds,"
        f" {options.concurrency} at a time"
        f" ({'instructions' if options.instructions else 'CPU'}: median and least of the rounds;"
        " calls: one profiled round)"
    )
    unit = "k instr/req" if options.instructions else "cpu us/req"
    header = (
        f"{'server':<{width}}{'calls/req':>10}{'x floor':>8}{unit:>12}{'x floor':>8}"
        f"{'least':>8}{'x floor':>8}  rounds"
    )
    print(header)
    print("-" * len(header))
    for entry in processes:
        cpu = statistics.median(entry.cpu_us)
        rounds = " ".join(f"{value:.0f}" for value in entry.cpu_us)
        least = min(entry.cpu_us)
        print(f"{entry.name:<{width}}{entry.calls:10.0f}{entry.calls / floor.calls:8.2f}"
              f"{cpu:12.0f}{cpu / floor_cpu:8.2f}{least:8.0f}{least / floor_min:8.2f}"
              f"  {rounds}")  # fmt: skip
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for entry in processes:
        if entry.logged:
            print(f"WARNING: {entry.name} logged {len(entry.logged)} lines while measured, the"
                  f" first: {entry.logged[0][:300]}")  # fmt: skip
    for entry in processes if options.top else []:
        print(f"\n== {entry.name}\n{entry.top}")


if __name__ == "__main__":
    main()
