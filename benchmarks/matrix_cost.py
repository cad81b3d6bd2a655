"""Per-combination cost of the matrix: this harness next to an earlier one, in one run.

Run: .venv/bin/python benchmarks/matrix_cost.py [--baseline REF] [--rounds N] [--workers N]
     (services up and their environment exported, as for scripts/test)

The baseline is the matrix harness at a git ref (default: main), exported with `git archive`
into a scratch folder and run there with this .venv (it builds its own shared environment
there before the measured runs). Rounds alternate baseline, this harness, baseline, ...
so that a busy machine slows both alike. Each run is the full matrix (`SCAFFOLD_MATRIX=full`)
on --workers xdist workers; the first round of this harness starts with empty mypy/ruff caches,
as a fresh clone does. Printed per run: wall seconds, CPU seconds of the whole process tree,
and the per-combination median and p90 from the run's own report.json.
Numbers only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def export(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True)
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def failed(report: dict[str, Any]) -> list[str]:
    """The combinations that failed, from either report format."""
    found = []
    for entry in report["combinations"]:
        tiers = [entry["tier1"], entry["tier2"]]
        outcomes = [t["outcome"] if isinstance(t, dict) else t for t in tiers]
        if "failed" in outcomes:
            found.append(str(entry["id"]))
    return found


def costs(report: dict[str, Any]) -> list[float]:
    """Seconds per combination, from either report format."""
    found = []
    for entry in report["combinations"]:
        if isinstance(entry.get("tier1"), dict):
            found.append(
                entry["render_seconds"] + entry["tier1"]["seconds"] + entry["tier2"]["seconds"]
            )
        else:
            found.append(float(entry["tier1_seconds"]) + float(entry["tier2_seconds"]))
    return sorted(found)


@dataclass(frozen=True)
class Measured:
    wall: float
    cpu: float
    median: float
    p90: float
    combinations: int
    status: str

    def row(self, name: str, round_number: int) -> str:
        return (
            f"{name:<22}{round_number:>6}{self.wall:>9.1f}{self.cpu:>9.1f}{self.median:>10.1f}"
            f"{self.p90:>8.1f}{self.combinations:>4}  {self.status}"
        )


def run_matrix(tree: Path, report_dir: Path, workers: int) -> Measured:
    env = {**os.environ, "SCAFFOLD_MATRIX": "full", "SCAFFOLD_MATRIX_REPORT": str(report_dir)}
    env["PYTHONPATH"] = str(tree)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(workers),
         "tests/matrix"],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report = json.loads((report_dir / "report.json").read_text())
    seconds = costs(report)
    p90 = seconds[max(0, math.ceil(0.9 * len(seconds)) - 1)]
    status = "passed" if done.returncode == 0 else f"exit {done.returncode}: {failed(report)}"
    return Measured(wall, cpu, statistics.median(seconds), p90, len(seconds), status)


def warm_up(tree: Path, scratch: Path) -> None:
    """Build the tree's shared environment outside the measured runs (one static combination)."""
    env = {**os.environ, "SCAFFOLD_MATRIX": "full", "SCAFFOLD_MATRIX_TIERS": "static",
           "SCAFFOLD_MATRIX_REPORT": str(scratch / "warm-up"), "PYTHONPATH": str(tree)}  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-k", "test_combination and base", "tests/matrix"],
        cwd=tree, env=env, capture_output=True, check=True,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="main")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="matrix-cost-") as scratch:
        baseline = export(options.baseline, Path(scratch) / "baseline")
        warm_up(baseline, Path(scratch))
        print(f"load average at start: {os.getloadavg()}")
        header = ("harness", "round", "wall s", "cpu s", "median s", "p90 s", "n")
        print("{:<22}{:>6}{:>9}{:>9}{:>10}{:>8}{:>4}  status".format(*header))
        shutil.rmtree(ROOT / ".cache" / "matrix", ignore_errors=True)  # a fresh clone's caches
        for round_number in range(1, options.rounds + 1):
            for name, tree in ((f"baseline {options.baseline}", baseline), ("this harness", ROOT)):
                report_dir = Path(scratch) / f"report-{round_number}-{name.split()[0]}"
                measured = run_matrix(tree, report_dir, options.workers)
                print(measured.row(name, round_number), flush=True)
        print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
