"""What each test costs in CPU: a pytest plugin for measuring the suite, not part of it.

    nice -n 19 .venv/bin/pytest tests --ignore=tests/matrix --cpu-cost -n 3 --dist worksteal

Each test's CPU seconds (user + system of the worker process and of the children it waited
for: git, Copier's subprocesses, mypy, the generated project's pytest...), from its setup to
its teardown, go to one JSON line per test in ``$SCAFFOLD_TEST_CPU`` (default
build/test-cpu/, emptied by the run); the end of the run prints the costliest modules. CPU
seconds, unlike durations, hardly change with the load of a shared machine. A session-scoped
fixture is paid by the first test that uses it; processes that outlive their test (servers,
fork servers) are paid by the test that reaps them, or by nobody.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import time
from collections import defaultdict
from collections.abc import Generator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOWN = 15


def folder() -> Path:
    return Path(os.environ.get("SCAFFOLD_TEST_CPU", ROOT / "build" / "test-cpu"))


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, waited.ru_utime + waited.ru_stime


def pytest_sessionstart(session: pytest.Session) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # the controller, or a run without workers
        shutil.rmtree(folder(), ignore_errors=True)
        folder().mkdir(parents=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    own, waited = _cpu()
    start = time.monotonic()
    yield
    own_after, waited_after = _cpu()
    row = {"test": item.nodeid, "own": own_after - own, "children": waited_after - waited,
           "wall": time.monotonic() - start}  # fmt: skip
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with (folder() / f"{worker}.jsonl").open("a", encoding="utf-8") as rows:
        rows.write(json.dumps(row) + "\n")


def per_module(where: Path) -> dict[str, list[float]]:
    """Module -> [tests, CPU s, of which children, wall s summed over its tests]."""
    modules: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for path in sorted(where.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            module = modules[row["test"].split("::")[0]]
            module[0] += 1
            module[1] += row["own"] + row["children"]
            module[2] += row["children"]
            module[3] += row["wall"]
    return dict(modules)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    modules = per_module(folder())
    total = sum(m[1] for m in modules.values())
    terminalreporter.section(f"CPU per test module (total {total:.0f} CPU-s; rows: {folder()})")
    terminalreporter.write_line("CPU s  children  wall s  tests  module")
    for name, (tests, cpu, children, wall) in sorted(modules.items(), key=lambda m: -m[1][1])[
        :SHOWN
    ]:
        terminalreporter.write_line(
            f"{cpu:5.1f}  {children:8.1f}  {wall:6.1f}  {tests:5.0f}  {name}"
        )
