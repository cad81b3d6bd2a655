"""The fork server runs a project's pytest like a fresh interpreter would, keeps combinations
apart, keeps failures loud, and the probe reports interaction tests the same either way."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.matrix.reuse import Store
from tests.matrix.runner import CHILD, Command, ForkServer, FreshInterpreters, Runner, run
from tests.matrix.runtime_checks import (
    Combination,
    Worker,
    interactions_are_declared_right,
    own_tests_pass,
)

PYTEST_INI = """\
[pytest]
addopts = --strict-markers
markers =
    interaction(*capabilities): exercises two or more capabilities together
"""
TESTS = """\
import os

import pytest
import toypkg


def test_value():
    assert toypkg.VALUE == int(os.environ["EXPECTED"])


@pytest.mark.interaction("caching", "rate_limiting")
def test_together():
    assert True


@pytest.mark.interaction("auth", "multitenancy")
def test_failing_together():
    assert os.environ.get("FAIL_TOGETHER") != "1"


# A sample project's test, not one of ours: the harness must report a skip as "not passed".
@pytest.mark.skip(reason="the harness must see a skipped test and fail the combination")
def test_skipped():
    pass
"""
FRESH = """\
import sys

IMPORTED_BEFORE = "toypkg" in sys.modules


def test_no_module_of_an_earlier_run_is_loaded():
    assert not IMPORTED_BEFORE
"""


def toy_project(root: Path, value: int) -> Path:
    (root / "src" / "toypkg").mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(exist_ok=True)
    (root / "src" / "toypkg" / "__init__.py").write_text(f"VALUE = {value}\n")
    (root / "tests" / "test_value.py").write_text(TESTS)
    (root / "tests" / "test_fresh.py").write_text(FRESH)
    (root / "pytest.ini").write_text(PYTEST_INI)
    return root


def environment(project: Path, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "PYTHONPATH": str(project / "src"), **extra}


@pytest.fixture
def fork_server(tmp_path: Path) -> Iterator[ForkServer]:
    server = ForkServer(Path(sys.executable), environment(tmp_path), [], tmp_path / "zygote.log")
    yield server
    server.close()


def pytest_run(runner: Runner, project: Path, *args: str, **env: str) -> tuple[int, dict[str, Any]]:
    probe = project.parent / "probe.json"
    probe.unlink(missing_ok=True)
    command = Command(
        "pytest", ["-q", "-p", "no:cacheprovider", f"--matrix-probe-out={probe}", *args],
        project, environment(project, **env), project.parent / "pytest.log",
    )  # fmt: skip
    code = run(runner, command, timeout=120)
    return code, json.loads(probe.read_text()) if probe.is_file() else {}


def test_no_module_leaks_from_one_child_to_the_next(
    fork_server: ForkServer, tmp_path: Path
) -> None:
    project = toy_project(tmp_path / "project", value=1)
    code, _ = pytest_run(fork_server, project, "tests/test_value.py", EXPECTED="1")
    assert code == 0, (tmp_path / "pytest.log").read_text()
    toy_project(project, value=2)  # same folder, same module name, other content
    code, _ = pytest_run(fork_server, project, "tests/test_value.py", EXPECTED="2")
    assert code == 0, (tmp_path / "pytest.log").read_text()
    code, _ = pytest_run(fork_server, project, "tests/test_fresh.py")
    assert code == 0, (tmp_path / "pytest.log").read_text()


def test_a_child_killed_at_its_timeout_leaves_the_server_serving(
    fork_server: ForkServer, tmp_path: Path
) -> None:
    project = toy_project(tmp_path / "project", value=1)
    (project / "tests" / "test_hangs.py").write_text(
        "import threading\n\n\ndef test_hangs():\n    threading.Event().wait()\n"
    )
    args = ["-q", "-p", "no:cacheprovider", "-o", "faulthandler_timeout=1", "tests/test_hangs.py"]
    command = Command("pytest", args, project, environment(project), tmp_path / "hangs.log")
    with pytest.raises(AssertionError, match="did not finish within 3 s: killed") as killed:
        run(fork_server, command, timeout=3)
    assert 'test_hangs.py", line 5 in test_hangs' in str(killed.value)  # where it waited

    code, _ = pytest_run(fork_server, project, "tests/test_value.py", EXPECTED="1")
    assert code == 0, (tmp_path / "pytest.log").read_text()


def test_a_failing_test_fails_the_child(fork_server: ForkServer, tmp_path: Path) -> None:
    project = toy_project(tmp_path / "project", value=1)
    code, probe = pytest_run(fork_server, project, "tests/test_value.py", EXPECTED="3")
    assert code == pytest.ExitCode.TESTS_FAILED
    assert "tests/test_value.py::test_value" in probe["not_passed"]


@pytest.mark.parametrize("kind", ["fork server", "fresh interpreters"])
def test_the_probe_reports_interaction_tests_and_every_test_that_did_not_pass(
    kind: str, fork_server: ForkServer, tmp_path: Path
) -> None:
    runner: Runner = (
        fork_server if kind == "fork server" else FreshInterpreters(Path(sys.executable))
    )
    project = toy_project(tmp_path / "project", value=1)
    code, probe = pytest_run(runner, project, EXPECTED="1", FAIL_TOGETHER="1")
    assert code == pytest.ExitCode.TESTS_FAILED
    assert probe["interactions"] == [
        {"test": "tests/test_value.py::test_failing_together",
         "capabilities": ["auth", "multitenancy"], "outcome": "failed"},
        {"test": "tests/test_value.py::test_together",
         "capabilities": ["caching", "rate_limiting"], "outcome": "passed"},
    ]  # fmt: skip
    assert probe["not_passed"] == [
        "tests/test_value.py::test_failing_together",
        "tests/test_value.py::test_skipped",
    ]


def load_server_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("zygote_server", CHILD / "zygote_server.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_isolation_check_sees_a_module_of_the_project(tmp_path: Path) -> None:
    server = load_server_module()
    project = toy_project(tmp_path / "project", value=1)
    assert server.loaded_from(str(project)) == []
    spec = importlib.util.spec_from_file_location(
        "toypkg_probe", project / "src/toypkg/__init__.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["toypkg_probe"] = module
    try:
        spec.loader.exec_module(module)
        assert server.loaded_from(str(project)) == ["toypkg_probe"]
    finally:
        del sys.modules["toypkg_probe"]


def combination(*capabilities: str) -> Combination:
    return Combination("x", frozenset(capabilities), Path("."), "pkg")


@pytest.mark.parametrize(
    ("names", "problem"),
    [
        (["caching"], "two capabilities or more"),
        (["caching", "teleportation"], "not catalog capabilities"),
        (["caching", "rate_limiting"], "rendered without ['rate_limiting']"),
    ],
)
def test_a_wrong_interaction_marker_fails_the_combination(names: list[str], problem: str) -> None:
    test = {"test": "t::x", "capabilities": names, "outcome": "passed"}
    with pytest.raises(AssertionError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        interactions_are_declared_right(combination("caching"), [test])


def test_a_right_interaction_marker_passes() -> None:
    test = {"test": "t::x", "capabilities": ["caching", "rate_limiting"], "outcome": "passed"}
    interactions_are_declared_right(combination("caching", "rate_limiting"), [test])


def test_the_probe_leaves_out_the_tests_tier_1_made_and_says_which(
    fork_server: ForkServer, tmp_path: Path
) -> None:
    project = toy_project(tmp_path / "project", value=1)
    covered = "tests/test_value.py::test_failing_together,tests/test_value.py::test_skipped"
    code, probe = pytest_run(
        fork_server, project, "tests/test_value.py", f"--matrix-covered={covered}",
        EXPECTED="1", FAIL_TOGETHER="1",
    )  # fmt: skip
    assert code == 0, (tmp_path / "pytest.log").read_text()
    assert probe["covered_by_tier_1"] == covered.split(",")
    assert probe["not_passed"] == []
    assert probe["counts"] == {"passed": 2}


def test_a_covered_test_the_project_no_longer_has_fails_the_combination(
    fork_server: ForkServer, tmp_path: Path
) -> None:
    project = toy_project(tmp_path / "project", value=1)
    (project / "tests" / "test_value.py").write_text(TESTS.replace("test_together", "renamed"))
    gone = "tests/test_value.py::test_together"
    worker = Worker(fork_server, Path(sys.executable), tmp_path, Store(tmp_path / "s"), "toy")
    combination = Combination("x", frozenset(), project, "toypkg", covered=(gone,))
    env = environment(project, EXPECTED="1")

    with pytest.raises(AssertionError, match="tier 1 covers tests the project no longer has"):
        own_tests_pass(combination, worker, env, "primary", {})
