"""What the HTTP benchmarks share: seeding items, a uvicorn on a free port, a wrk run (with the
server's CPU time per request), and the environment that keeps a capability measured, not
refusing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.matrix.runtime_checks import free_port

# Per capability: the environment that keeps a benchmark measuring its cost, not its refusals.
BENCH_ENVIRONMENT: dict[str, dict[str, str]] = {
    "rate_limiting": {  # admitted, yet the limiter runs its Redis script on every request
        "RATE_LIMIT_POLICIES": '{"default": {"limit": 1000000, "window_seconds": 1},'
        ' "sensitive": {"limit": 5, "window_seconds": 60, "fail_open": false}}',
    },
}

# wrk calls `request` for every request (a random seeded item) and `done` once at the end.
WRK_SCRIPT = """
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS_FILE")) do ids[#ids + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/items/" .. ids[math.random(#ids)])
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
    cpu_us_per_request: float | None = None
    """The server process's CPU time (all its threads) per request answered, when measured."""

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def describe(self) -> str:
        errors = ""
        if self.socket_errors or self.non_2xx:
            errors = f"  ERRORS: {self.socket_errors} socket, {self.non_2xx} non-2xx"
        return (
            f"p50 {self.p50_ms:6.2f} ms  p95 {self.p95_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms"
            f"  {self.per_second:8.0f} req/s{errors}"
        )


def seed(database_url: str, count: int, ids: list[str] | None = None) -> list[str]:
    """Insert `count` items in one statement (with the given ids, if any); return their ids."""
    source = (
        f"unnest(ARRAY[{','.join(repr(i) for i in ids)}]::uuid[])"
        if ids
        else f"(SELECT gen_random_uuid() FROM generate_series(1, {int(count)}))"
    )
    statement = (
        "INSERT INTO items (id, name, description) "
        f"SELECT id, 'item ' || id, 'seeded for the benchmark' FROM {source} AS t(id) RETURNING id"
    )
    done = subprocess.run(
        ["psql", database_url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", statement],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return [line for line in done.stdout.splitlines() if line.strip()]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User and system CPU time of the process so far, all threads (from /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(python: Path, cwd: Path, env: dict[str, str], app: list[str]) -> Iterator[Server]:
    """A uvicorn of `app` (its arguments) on a free loopback port, answering; stopped after."""
    port = free_port()
    process = subprocess.Popen(
        [str(python), "-m", "uvicorn", *app, "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                output = process.stderr.read() if process.stderr else ""
                sys.exit(f"uvicorn exited with {process.returncode}:\n{output}")
            try:
                get(f"{base}/items/00000000-0000-0000-0000-000000000000", missing_ok=True)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield Server(base, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def get(url: str, *, missing_ok: bool = False, accept: str = "*/*") -> str:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as error:
        if missing_ok and error.code == 404:
            return ""
        raise


def load(
    wrk: str,
    base: str,
    script: Path,
    ids: Path,
    connections: int,
    seconds: int,
    cpu_of: Server | None = None,
) -> Result:
    """wrk (one thread) on `base`; with `cpu_of`, that server's CPU time per request too."""
    cpu_before = cpu_of.cpu_seconds() if cpu_of else 0.0
    done = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), base],
        env={"BENCH_IDS_FILE": str(ids), "PATH": "/usr/bin:/bin"},
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    cpu = cpu_of.cpu_seconds() - cpu_before if cpu_of else None
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    count, micros, p50, p95, p99, socket_errors, non_2xx = (int(v) for v in line.split()[1:])
    cpu_us = cpu / max(count, 1) * 1e6 if cpu is not None else None
    return Result(
        count, micros / 1e6, p50 / 1000, p95 / 1000, p99 / 1000, socket_errors, non_2xx, cpu_us
    )


def delete_keys(python: Path, prefix: str) -> None:
    code = (
        "import os, redis; r = redis.Redis.from_url(os.environ['REDIS_URL']); "
        f"keys = list(r.scan_iter(match='{prefix}*', count=1000)); keys and r.unlink(*keys)"
    )
    subprocess.run([str(python), "-c", code], check=False)
