"""CPU seconds of the matrix's mypy check per combination, the ways a worker can run it,
alternating in one run over the same sequence of combinations:
- "command": `python -m mypy --cache-dir CACHE` in the project (what the matrix ran before);
- "warm server": the same run forked from a server that imported mypy and the project's
  plugins once, without cyclic garbage collection (tests/matrix/mypy_runner.py, what the
  matrix runs now);
- "collecting" (with ``--collecting``): the warm server with mypy's own collector settings
  (``SCAFFOLD_MATRIX_MYPY_GC=1``, what the matrix ran before);
- "daemon" (with ``--daemon``): `dmypy run`, mypy's daemon in fine-grained incremental mode,
  kept for the whole sequence; a crashed daemon (it exits 2 with a traceback) is restarted by
  the next `dmypy run`, which then pays a full check.

Each variant renders the combinations into its own stable folder (tests/matrix/workspace.py),
as a matrix worker does, and keeps its own cache (copied from one cold run first, which is not
counted; neither is the first combination, which checks the copied cache's project again).
The verdicts of every variant are printed next to the command's: they must agree.

Run:
    .venv/bin/python benchmarks/mypy_cost.py [--labels base,caching,...] [--daemon]

Counted: the command and everything it starts; for the server, the forked run (reported by the
server, which reaps it), its start (the imports, once per worker) apart; for the daemon, the
client plus the daemon's CPU over the call (read from /proc). Numbers only; nothing asserts a
time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scaffold.matrix import combinations  # noqa: E402
from tests.matrix import mypy_runner, warm_server  # noqa: E402
from tests.matrix.shared_env import shared_python  # noqa: E402
from tests.matrix.workspace import render  # noqa: E402

LABELS = (
    "base,caching,caching+auth,caching+rate_limiting+observability+cicd+auth,"
    "rate_limiting+observability,observability+cicd+auth,caching+rate_limiting,"
    "rate_limiting+observability+cicd+auth,caching+observability,base"
)
Runner = Callable[[Path, Path], tuple[int, str, float]]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def command(python: Path) -> Runner:
    def run(project: Path, cache: Path) -> tuple[int, str, float]:
        started = children_cpu()
        done = subprocess.run(
            [str(python), "-m", "mypy", "--cache-dir", str(cache)],
            cwd=project, capture_output=True, text=True, check=False,
        )  # fmt: skip
        return done.returncode, done.stdout + done.stderr, children_cpu() - started

    return run


def warm(python: Path, started: list[float], collecting: bool = False) -> Runner:
    servers: list[mypy_runner.WarmMypy] = []

    def run(project: Path, cache: Path) -> tuple[int, str, float]:
        if not servers:
            before = children_cpu()
            os.environ[mypy_runner.GC_VARIABLE] = "1" if collecting else "0"  # its checks read it
            servers.append(mypy_runner.WarmMypy(python, mypy_runner.configured_plugins(project)))
            del os.environ[mypy_runner.GC_VARIABLE]
            started.append(process_cpu(servers[0].process.pid) + children_cpu() - before)
        before = warm_server.forked_cpu_seconds()
        code, output = servers[0].run(["--cache-dir", str(cache)], project)
        return code, output, warm_server.forked_cpu_seconds() - before

    return run


def daemon(python: Path, status: Path) -> Runner:
    def pid() -> int | None:
        if not status.is_file():
            return None
        return int(json.loads(status.read_text(encoding="utf-8"))["pid"])

    def run(project: Path, cache: Path) -> tuple[int, str, float]:
        before, running = children_cpu(), pid()
        daemon_before = process_cpu(running) if running else 0.0
        done = subprocess.run(
            [str(python), "-m", "mypy.dmypy", "--status-file", str(status), "run", "--",
             "--cache-dir", str(cache)],
            cwd=project, capture_output=True, text=True, check=False,
        )  # fmt: skip
        after = pid()
        daemon_cpu = process_cpu(after) - (daemon_before if after == running else 0.0)
        return done.returncode, done.stdout + done.stderr, children_cpu() - before + daemon_cpu

    return run


def verdict(code: int, output: str) -> str:
    lines = output.strip().splitlines()
    return f"{code}: {lines[-1][:60] if lines else ''}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", default=LABELS, help="comma-separated, in order")
    parser.add_argument("--daemon", action="store_true", help="also mypy's daemon (dmypy)")
    parser.add_argument(
        "--collecting", action="store_true", help="also the warm server with mypy's collector"
    )
    arguments = parser.parse_args()
    chosen = {s.label(): s for s in combinations()}
    labels = arguments.labels.split(",")
    python = shared_python(None)
    server_start: list[float] = []
    with tempfile.TemporaryDirectory(prefix="mypy-bench-") as scratch:
        folder = Path(scratch)
        variants: dict[str, Runner] = {
            "command": command(python), "warm server": warm(python, server_start),
        }  # fmt: skip
        if arguments.collecting:
            variants["collecting"] = warm(python, [], collecting=True)
        if arguments.daemon:
            variants["daemon"] = daemon(python, folder / "dmypy.json")
        cold = folder / "cold-cache"
        project = render(chosen[labels[0]], folder / "cold", None)
        code, output, cpu = command(python)(project, cold)
        print(f"cold cache ({labels[0]}): {cpu:.2f} CPU-s, {verdict(code, output)}")
        for name in variants:
            shutil.copytree(cold, folder / name / "cache")
        times: dict[str, list[float]] = {name: [] for name in variants}
        width = max(map(len, labels))
        print(f"{'combination':{width}}  " + "  ".join(f"{n:>12}" for n in variants))
        for index, label in enumerate(labels):
            row, verdicts = [], set()
            for name, runner in variants.items():
                project = render(chosen[label], folder / name, None)
                code, output, cpu = runner(project, folder / name / "cache")
                verdicts.add(verdict(code, output) if code != 2 or name != "daemon" else "crash")
                row.append(f"{cpu:12.2f}")
                if index:
                    times[name].append(cpu)
            agree = "" if len(verdicts) == 1 else f"  verdicts differ: {sorted(verdicts)}"
            print(f"{label:{width}}  " + "  ".join(row) + ("  (not counted)" if not index else "")
                  + agree)  # fmt: skip
        print(
            f"{'median':{width}}  "
            + "  ".join(f"{statistics.median(t):12.2f}" for t in times.values())
        )
        print(f"{'total':{width}}  " + "  ".join(f"{sum(t):12.2f}" for t in times.values()))
        print(f"warm server start (imports, once per worker): {server_start[0]:.2f} CPU-s")
        if arguments.daemon:
            subprocess.run(
                [str(python), "-m", "mypy.dmypy", "--status-file", str(folder / "dmypy.json"),
                 "stop"],
                capture_output=True, check=False,
            )  # fmt: skip
        mypy_runner.stop()


if __name__ == "__main__":
    main()
