"""A pytest plugin the matrix loads into a generated project's own test run (it never ships in
the project). It records which tests exercise several capabilities together, and the outcome of
every test, and the seconds each test module took (setup, call and teardown of its tests), into
the JSON file named by ``--matrix-probe-out``.

The marker contract (the generated project declares the marker in its pytest configuration, so
``--strict-markers`` rejects a misspelling)::

    @pytest.mark.interaction("auth", "rate_limiting")
    async def test_limits_are_per_user(...): ...

The arguments are catalog capability names, two or more; the test file is rendered only when
all of them are present. The matrix checks both when it reads this file.

Standard library and pytest only: this runs inside the generated project's environment.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--matrix-probe-out", default=None, help="where the matrix probe writes")
    parser.addoption(
        "--matrix-covered", default="", help="node ids (comma-separated) tier 1 already made"
    )


def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption("matrix_probe_out")
    if target:
        covered = {n for n in str(config.getoption("matrix_covered")).split(",") if n}
        config.pluginmanager.register(Probe(Path(target), config, covered), "matrix-probe")


class Probe:
    def __init__(self, target: Path, config: pytest.Config, covered: set[str]) -> None:
        self.target = target
        self.config = config
        self.covered = covered
        self.left_out: list[str] = []
        self.interactions: dict[str, list[str]] = {}
        self.outcomes: dict[str, str] = {}
        self.module_seconds: dict[str, float] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        left_out = [item for item in items if item.nodeid in self.covered]
        if left_out:
            self.config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if item.nodeid not in self.covered]
        self.left_out = sorted(item.nodeid for item in left_out)
        for item in items:
            marks = list(item.iter_markers("interaction"))
            if marks:
                names = {str(name) for mark in marks for name in mark.args}
                self.interactions[item.nodeid] = sorted(names)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        module = report.nodeid.split("::", 1)[0]
        self.module_seconds[module] = self.module_seconds.get(module, 0.0) + report.duration
        previous = self.outcomes.get(report.nodeid)
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped and previous != "failed":
            self.outcomes[report.nodeid] = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        elif report.when == "call" and previous is None:
            self.outcomes[report.nodeid] = "passed"

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        counts: dict[str, int] = {}
        for outcome in self.outcomes.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        interactions = [
            {"test": nodeid, "capabilities": names, "outcome": self.outcomes.get(nodeid, "not run")}
            for nodeid, names in sorted(self.interactions.items())
        ]
        not_passed = sorted(n for n, outcome in self.outcomes.items() if outcome != "passed")
        summary: dict[str, Any] = {
            "exit_status": int(exitstatus),
            "counts": counts,
            "interactions": interactions,
            "not_passed": not_passed,
            "covered_by_tier_1": self.left_out,
            "module_seconds": {m: round(s, 3) for m, s in sorted(self.module_seconds.items())},
        }
        self.target.write_text(json.dumps(summary, indent=1), encoding="utf-8")
