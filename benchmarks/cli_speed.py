"""Print how long `scaffold --help` and `scaffold new` take, next to a raw `copier copy`.

Run: .venv/bin/python benchmarks/cli_speed.py [--runs N]
Numbers only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scaffold.template_source import packaged_template

BIN = Path(sys.executable).parent


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def measure(label: str, runs: int, make_command: object) -> None:
    samples = []
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(runs):
            command = make_command(Path(scratch), index)  # type: ignore[operator]
            samples.append(timed(command, Path(scratch)))
    print(
        f"{label:<40} median {statistics.median(samples) * 1000:7.0f} ms"
        f"  min {min(samples) * 1000:7.0f} ms  ({runs} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    template = str(packaged_template())
    scaffold = str(BIN / "scaffold")
    copier = shutil.which("copier", path=str(BIN)) or "copier"
    measure("scaffold --help", runs, lambda d, i: [scaffold, "--help"])
    measure(
        "scaffold new (no git)",
        runs,
        lambda d, i: [scaffold, "new", f"s{i}", "--yes", "--no-git"],
    )
    measure(
        "scaffold new (with git init + commit)",
        runs,
        lambda d, i: [scaffold, "new", f"g{i}", "--yes"],
    )
    measure(
        "copier copy (same template and answers)",
        runs,
        lambda d, i: [
            copier,
            "copy",
            "--quiet",
            "--defaults",
            "-d",
            f"project_name=c{i}",
            template,
            str(d / f"c{i}"),
        ],
    )


if __name__ == "__main__":
    main()
