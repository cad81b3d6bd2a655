"""Tier 2 for a project outside the matrix, its commands forked from a warm fork server.

A fresh interpreter for each of tier 2's commands (for the fullest combination a dozen pytest
runs, one per test group, `alembic` and `uvicorn`) would import FastAPI, SQLAlchemy, pydantic,
httpx... again in each: twice the CPU (docs/development.md). The matrix forks them from one warm
zygote (runner.py), which is what it proves every combination with; this does the same for one
project, untraced (nothing is reused, so nothing needs to be known of what a command read).
The checks are tier 2's own (`runtime_tier`): every group's tests pass, the interaction tests
are declared right, migrations apply, the service boots, answers ready, stops cleanly.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.matrix.project_env import base_env
from tests.matrix.reuse import Result, Store
from tests.matrix.runner import ForkServer, warm_modules
from tests.matrix.runtime_checks import Combination, Worker, runtime_tier
from tests.matrix.shared_env import VENV


class UntracedForkServer(ForkServer):
    """The matrix's fork server without read traces (they only serve reuse)."""

    traces = False


def tier_two_warm(
    project: Path,
    python: Path,
    package: str,
    logs: Path,
    label: str = "project",
    capabilities: frozenset[str] = frozenset(),
) -> Result:
    """Tier 2's result for ``project`` (rendered for ``capabilities``), as the matrix runs it."""
    logs.mkdir(parents=True, exist_ok=True)
    requirements = json.loads((VENV / "requirements.json").read_text(encoding="utf-8"))
    runner = UntracedForkServer(
        python, base_env(python, project), warm_modules(python, requirements), logs / "zygote.log"
    )
    worker = Worker(runner, python, logs, Store(logs / "store", active=False), "one-off")
    try:
        return runtime_tier(Combination(label, capabilities, project, package), worker)
    finally:
        runner.close()
