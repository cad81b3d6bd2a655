"""What the HTTP benchmarks share: seeding items, a uvicorn on a free port, a wrk run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks import budget_auth
from tests.matrix.runtime_checks import free_port

BENCH_TENANT = "bench"
"""With multitenancy: the tenant the seeded items belong to (on the plan without limits)."""
# Per capability: the environment that keeps a benchmark measuring its cost, not its refusals.
BENCH_ENVIRONMENT: dict[str, dict[str, str]] = {
    "rate_limiting": {  # admitted, yet the limiter runs its Redis script on every request
        "RATE_LIMIT_POLICIES": '{"default": {"limit": 1000000, "window_seconds": 1},'
        ' "sensitive": {"limit": 5, "window_seconds": 60, "fail_open": false}}',
    },
    "multitenancy": {  # the benchmark's machine client acts for the seeded tenant
        "TENANT_MACHINE_CLIENTS": json.dumps({budget_auth.CLIENT_ID: BENCH_TENANT}),
    },
}

# wrk calls `request` for every request (a random seeded item) and `done` once at the end.
# With BENCH_TOKENS_FILE, each request carries the next of its bearer tokens, in turn.
WRK_SCRIPT = """
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS_FILE")) do ids[#ids + 1] = line end
local tokens = {}
local tokens_file = os.getenv("BENCH_TOKENS_FILE")
if tokens_file then
  for line in io.lines(tokens_file) do tokens[#tokens + 1] = line end
end
local turn = 0
math.randomseed(os.time())
request = function()
  local headers = nil
  if #tokens > 0 then
    turn = turn % #tokens + 1
    headers = {Authorization = "Bearer " .. tokens[turn]}
  end
  return wrk.format("GET", "/items/" .. ids[math.random(#ids)], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    socket_errors: int
    non_2xx: int
    cpu_seconds: float = 0.0
    """CPU time the server process spent (user + system) while loaded; 0 when unknown."""

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us_per_request(self) -> float:
        """The server's CPU per request: what contention for the cores does not change much."""
        return 1e6 * self.cpu_seconds / max(self.requests, 1)

    def describe(self) -> str:
        errors = ""
        if self.socket_errors or self.non_2xx:
            errors = f"  ERRORS: {self.socket_errors} socket, {self.non_2xx} non-2xx"
        cpu = f"  cpu {self.cpu_us_per_request:5.0f} us/req" if self.cpu_seconds else ""
        return (
            f"p50 {self.p50_ms:6.2f} ms  p95 {self.p95_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms"
            f"  {self.per_second:8.0f} req/s{cpu}{errors}"
        )


def seed(
    database_url: str, count: int, ids: list[str] | None = None, tenant: str | None = None
) -> list[str]:
    """Insert `count` items in one statement (with the given ids, if any); return their ids.

    `tenant` (with multitenancy): the items belong to it, a tenant row created first."""
    source = (
        f"unnest(ARRAY[{','.join(repr(i) for i in ids)}]::uuid[])"
        if ids
        else f"(SELECT gen_random_uuid() FROM generate_series(1, {int(count)}))"
    )
    statement = (
        "INSERT INTO items (id, name, description) "
        f"SELECT id, 'item ' || id, 'seeded for the benchmark' FROM {source} AS t(id) RETURNING id"
    )
    if tenant:  # items.tenant_id defaults to the transaction's app.tenant_id
        statement = (
            f"INSERT INTO tenants (id, name, plan) VALUES ('{tenant}', '{tenant}', 'enterprise');"
            f" SET app.tenant_id = '{tenant}'; {statement}"
        )
    done = subprocess.run(
        ["psql", database_url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", statement],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return [line for line in done.stdout.splitlines() if line.strip()]


SERVER_PIDS: dict[str, int] = {}
"""The process behind each running `server()`'s base URL: `load()` reads its CPU time."""


@contextmanager
def server(
    python: Path,
    cwd: Path,
    env: dict[str, str],
    app: list[str],
    launcher: Sequence[str] = ("-m", "uvicorn"),
) -> Iterator[str]:
    """A uvicorn of `app` (its arguments) on a free loopback port; yields its base URL.

    `launcher`: the interpreter's arguments before uvicorn's (a profiler wrapping it, say)."""
    port = free_port()
    process = subprocess.Popen(
        [str(python), *launcher, *app, "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    SERVER_PIDS[base] = process.pid
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output = process.stderr.read() if process.stderr else ""
                sys.exit(f"uvicorn exited with {process.returncode}:\n{output}")
            try:
                get(f"{base}/items/00000000-0000-0000-0000-000000000000", missing_ok=True)
                break
            except urllib.error.HTTPError:
                break  # it answers (401 without a token, with auth): it is up
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base
    finally:
        SERVER_PIDS.pop(base, None)
        process.terminate()
        process.wait(timeout=10)


def get(
    url: str, *, missing_ok: bool = False, token: str | None = None, accept: str = "*/*"
) -> str:
    headers = {"Accept": accept, **({"Authorization": f"Bearer {token}"} if token else {})}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=5
        ) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as error:
        if missing_ok and error.code == 404:
            return ""
        raise


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far (Linux `/proc`), 0 when unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(
    wrk: str,
    base: str,
    script: Path,
    ids: Path,
    connections: int,
    seconds: int,
    tokens: Path | None = None,
) -> Result:
    """`tokens`: a file of bearer tokens, one a line, sent in turn (one per request)."""
    pid = SERVER_PIDS.get(base)
    cpu_before = cpu_seconds(pid)
    env = {"BENCH_IDS_FILE": str(ids), "PATH": "/usr/bin:/bin"}
    if tokens is not None:
        env["BENCH_TOKENS_FILE"] = str(tokens)
    done = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), base],
        env=env,
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    cpu = cpu_seconds(pid) - cpu_before
    count, micros, p50, p95, p99, socket_errors, non_2xx = (int(v) for v in line.split()[1:])
    return Result(
        count, micros / 1e6, p50 / 1000, p95 / 1000, p99 / 1000, socket_errors, non_2xx, cpu
    )
