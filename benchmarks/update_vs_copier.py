"""Wall time of `scaffold update` next to `copier update`, on the same project and template change.

The template is the packaged one in a local git repository tagged v1, then v2 (a new Makefile
target). One project is generated at v1 by `scaffold new`, another by `copier copy --vcs-ref v1`
and committed (as `copier update` requires). Each run updates a fresh copy of each to v2 with the
tools' own command lines, checks both applied the change, and times only the update command;
the two tools take turns, so a busy machine slows both alike. Both run as they do on a user's
machine after their first run: with Python's bytecode cache (an untimed warm-up writes it, even
where PYTHONDONTWRITEBYTECODE is set, as in some sandboxes, which would otherwise make every run
compile Copier and its dependencies from source: seconds that have nothing to do with updating).

Run: .venv/bin/python benchmarks/update_vs_copier.py [--runs N]
Target: scaffold at most half of Copier's time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scaffold.template_source import packaged_template

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
BIN = Path(sys.executable).parent
SCAFFOLD, COPIER = str(BIN / "scaffold"), str(BIN / "copier")
NEW_TARGET = "\nclean: ## Remove the caches the tools leave behind\n\trm -rf .pytest_cache\n"
IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]


def run(command: list[str], cwd: Path) -> None:
    subprocess.run(command, cwd=cwd, env=ENV, check=True, capture_output=True)


def git(repo: Path, *args: str) -> None:
    run(["git", *IDENTITY, *args], repo)


def template_repo(folder: Path) -> Path:
    """The packaged template in a git repository, tagged v1."""
    shutil.copytree(packaged_template(), folder)
    git(folder, "init", "--quiet", "-b", "main")
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "-m", "v1")
    git(folder, "tag", "v1")
    return folder


def release_v2(template: Path) -> None:
    with (template / "project" / "Makefile.jinja").open("a", encoding="utf-8") as makefile:
        makefile.write(NEW_TARGET)
    git(template, "commit", "--quiet", "--all", "-m", "v2")
    git(template, "tag", "v2")


def projects_at_v1(root: Path, template: Path) -> tuple[Path, Path]:
    by_scaffold = root / "by-scaffold"
    by_scaffold.mkdir()
    run([SCAFFOLD, "new", "demo", "--yes", "--template", str(template)], by_scaffold)
    by_copier = root / "by-copier" / "demo"
    copy = [COPIER, "copy", "--quiet", "--defaults", "-d", "project_name=demo", "--vcs-ref", "v1"]
    run([*copy, str(template), str(by_copier)], root)
    git(by_copier, "init", "--quiet", "-b", "main")
    git(by_copier, "add", "--all")
    git(by_copier, "commit", "--quiet", "-m", "Generate demo with copier")
    return by_scaffold / "demo", by_copier


def update_once(label: str, project: Path, command: list[str]) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-update-") as scratch:
        copy = Path(scratch) / "demo"
        shutil.copytree(project, copy, symlinks=True)
        run(["git", "status", "--porcelain"], copy)  # refresh the copy's index, untimed
        start = time.perf_counter()
        run(command, copy)
        elapsed = time.perf_counter() - start
        makefile = (copy / "Makefile").read_text(encoding="utf-8")
        assert makefile.endswith(NEW_TARGET), f"{label} did not apply the template change"
    return elapsed


def report(label: str, samples: list[float]) -> float:
    median = statistics.median(samples)
    print(
        f"{label:<48} median {median * 1000:6.0f} ms"
        f"  min {min(samples) * 1000:6.0f} ms  max {max(samples) * 1000:6.0f} ms"
        f"  ({len(samples)} runs)"
    )
    return median


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args(argv).runs
    with tempfile.TemporaryDirectory(prefix="bench-update-") as scratch:
        root = Path(scratch)
        template = template_repo(root / "template")
        by_scaffold, by_copier = projects_at_v1(root, template)
        release_v2(template)
        tools = {
            "scaffold update --to v2": (by_scaffold, [SCAFFOLD, "update", "--to", "v2"]),
            "copier update --defaults --vcs-ref v2": (
                by_copier,
                [COPIER, "update", "--quiet", "--defaults", "--vcs-ref", "v2"],
            ),
        }
        for label, (project, command) in tools.items():
            update_once(label, project, command)  # warm-up, untimed
        samples: dict[str, list[float]] = {label: [] for label in tools}
        for _ in range(runs):  # alternate, so both see the same load on a shared machine
            for label, (project, command) in tools.items():
                samples[label].append(update_once(label, project, command))
    scaffold, copier = (report(label, times) for label, times in samples.items())
    verdict = "meets" if scaffold <= copier / 2 else "misses"
    print(f"scaffold / copier = {scaffold / copier:.2f} ({verdict} the target of at most 0.50)")


if __name__ == "__main__":
    main()
