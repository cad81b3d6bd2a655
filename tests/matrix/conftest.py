"""Fixtures of the combination matrix: per xdist worker, one stable project folder, the shared
environment, the tools and their caches, the fork server, and the run's store of reusable
results."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.matrix import report
from tests.matrix.content import digest, file_digest
from tests.matrix.mode import selected
from tests.matrix.project_env import base_env
from tests.matrix.reuse import Store, enabled
from tests.matrix.runner import ForkServer, FreshInterpreters, Runner, warm_modules
from tests.matrix.runtime_checks import Worker
from tests.matrix.shared_env import VENV, shared_python
from tests.matrix.static_checks import Tools
from tests.matrix.workspace import PROJECT
from tests.support.tool_caches import lasting_caches, worker_name

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = os.environ.get("SCAFFOLD_MATRIX_TEMPLATE")  # another template: to test the matrix


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "combination" in metafunc.fixturenames:
        chosen = selected(metafunc.config.getoption("matrix_shard"))
        metafunc.parametrize("combination", chosen, ids=[s.label() for s in chosen])


@pytest.fixture(scope="session")
def worker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This worker's folder: the stable project folder, caches, logs."""
    return tmp_path_factory.mktemp("matrix-worker", numbered=False)


@pytest.fixture(scope="session")
def python() -> Path:
    return shared_python(TEMPLATE)


@pytest.fixture(scope="session")
def store() -> Store:
    return Store(report.REUSE, active=enabled())


@pytest.fixture(scope="session")
def tools(python: Path, worker_dir: Path) -> Iterator[Tools]:
    """mypy's and ruff's caches live in .cache/matrix/<worker> and outlast the run (both tools
    validate entries by content); a second session running at the same time gets fresh ones."""
    with lasting_caches(worker_name(), worker_dir / "caches") as caches:
        yield Tools(python=python, caches=caches)


@pytest.fixture(scope="session")
def worker(python: Path, worker_dir: Path, store: Store) -> Iterator[Worker]:
    logs = worker_dir / "logs"
    logs.mkdir(exist_ok=True)
    runner: Runner
    static_only = os.environ.get("SCAFFOLD_MATRIX_TIERS", "all") == "static"
    if static_only or os.environ.get("SCAFFOLD_MATRIX_ZYGOTE", "1") == "0":
        runner = FreshInterpreters(python)
    else:
        requirements = json.loads((VENV / "requirements.json").read_text(encoding="utf-8"))
        runner = ForkServer(
            python,
            base_env(python, worker_dir / PROJECT),
            warm_modules(python, requirements),
            logs / "zygote.log",
        )
    environment = digest((VENV / "requirements.sha").read_text(), file_digest(VENV / "pyvenv.cfg"))
    try:
        yield Worker(runner, python, logs, store, environment)
    finally:
        runner.close()
