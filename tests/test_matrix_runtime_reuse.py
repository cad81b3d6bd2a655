"""Tier 2 is reused only while every path its commands read is unchanged: files opened (imports
included), folders listed, and paths merely probed for existence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaffold.selection import Selection
from tests.matrix.project_env import base_env
from tests.matrix.reuse import Store
from tests.matrix.runner import ForkServer, warm_modules
from tests.matrix.runtime_checks import Combination, Worker, runtime_tier
from tests.matrix.shared_env import VENV, shared_python
from tests.matrix.workspace import render

pytestmark = [pytest.mark.slow, pytest.mark.services]

PROBING_TEST = """\
from pathlib import Path


def test_the_flag_is_down() -> None:
    assert not Path("deploy", "FLAG").exists()
"""


SPAWNING_TESTS = (
    "tests/integration/test_migrations.py",
    "tests/integration/test_server_process.py",
    "tests/unit/test_startup_settings.py",
    "tests/unit/test_request_id_after_fork.py",
)


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[tuple[Worker, Path]]:
    python = shared_python()
    project = render(Selection(capabilities=frozenset(), variants={}), tmp_path / "w", None)
    (project / "tests" / "unit" / "test_probing.py").write_text(PROBING_TEST)
    # A run whose tests start processes cannot be traced, so it is never reused (_manifest);
    # this test is about reuse, so its project keeps only the tests that run in-process.
    for spawning in SPAWNING_TESTS:
        (project / spawning).unlink()
    logs = tmp_path / "logs"
    logs.mkdir()
    requirements = json.loads((VENV / "requirements.json").read_text())
    runner = ForkServer(
        python, base_env(python, project), warm_modules(python, requirements), logs / "zygote.log"
    )
    try:
        yield Worker(runner, python, logs, Store(tmp_path / "store"), "environment"), project
    finally:
        runner.close()


def test_tier_two_is_reused_until_something_it_read_changes(
    worker: tuple[Worker, Path],
) -> None:
    runs, project = worker

    def tier_two(label: str) -> tuple[str, str, str]:
        result = runtime_tier(Combination(label, frozenset(), project, "matrix_svc"), runs)
        return result.source, result.outcome, result.message

    assert tier_two("first")[:2] == ("first", "passed")
    assert tier_two("identical")[:2] == ("first", "passed")
    (project / "README.md").write_text("nobody reads the README at run time\n")
    assert tier_two("other readme")[:2] == ("first", "passed")

    (project / "deploy" / "FLAG").write_text("")  # probed with Path.exists, never opened
    source, outcome, message = tier_two("flag up")
    assert (source, outcome) == ("flag up", "failed")
    assert "test_the_flag_is_down" in message

    (project / "deploy" / "FLAG").unlink()
    assert tier_two("flag down again")[:2] == ("first", "passed")
    probing = project / "tests" / "unit" / "test_probing.py"
    probing.write_text(PROBING_TEST + "\n# one more line\n")  # a file that was opened
    assert tier_two("test edited")[:2] == ("test edited", "passed")
