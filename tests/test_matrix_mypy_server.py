"""The warm mypy server (``child/mypy_server.py``) checks exactly as `python -m mypy` does, run
after run in one server as a matrix worker runs its combinations: the same exit code and the
same output, a type error included, and nothing of one run seen by the next (a module the
previous project had and this one has not is missing here too). It ends with its process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.matrix import mypy_runner
from tests.support.processes import outlived_by

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = """\
[tool.mypy]
strict = true
plugins = ["pydantic.mypy"]
files = ["src"]
explicit_package_bases = true
mypy_path = "src"
"""
USES = """\
from pydantic import BaseModel

from pkg.helper import value


class Settings(BaseModel):
    port: int


def port() -> int:
    return Settings(port=8000).port + value()
"""
HELPER = "def value() -> int:\n    return 8000\n"
WRONG_HELPER = 'def value() -> str:\n    return "8000"\n'


def project(folder: Path, helper: str | None) -> Path:
    """A project whose module uses ``pkg.helper`` (with ``helper`` as its text, or absent)."""
    package = folder / "src" / "pkg"
    package.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "uses.py").write_text(USES, encoding="utf-8")
    if helper is None:
        (package / "helper.py").unlink(missing_ok=True)
    else:
        (package / "helper.py").write_text(helper, encoding="utf-8")
    return folder


def command(folder: Path, cache: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache)],
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def test_each_run_is_the_commands_run_of_that_project(tmp_path: Path) -> None:
    """One server and one cache through versions of a project (sound, a type error, a module
    gone, sound again), next to the command with its own cache through the same versions, as a
    worker's stable folder goes through its combinations."""
    server = mypy_runner.WarmMypy(Path(sys.executable), ("pydantic.mypy",))
    outcomes: list[tuple[int, str]] = []
    try:
        for helper in (HELPER, WRONG_HELPER, None, HELPER):
            folder = project(tmp_path / "project", helper)
            by_command = command(folder, tmp_path / "command-cache")
            if not outcomes:  # the third-party part of the cache, filled once for both
                shutil.copytree(tmp_path / "command-cache", tmp_path / "warm-cache")
            warm = server.run(["--cache-dir", str(tmp_path / "warm-cache")], folder)
            assert warm == by_command, helper
            outcomes.append(warm)
    finally:
        server.stop()
    (passed, _), (wrong, wrong_output), (missing, missing_output), (again, _) = outcomes
    assert passed == 0 and again == 0, outcomes
    assert wrong == 1 and 'Unsupported operand types for + ("int" and "str")' in wrong_output, (
        wrong_output
    )
    assert missing == 1 and 'module named "pkg.helper"' in missing_output, missing_output


START_AND_REPORT = """
import sys
from pathlib import Path
from tests.matrix import mypy_runner
server = mypy_runner.server(Path(sys.executable), Path(sys.argv[1]))
print(server.process.pid, flush=True)
if sys.argv[2] == "hang":
    sys.stdin.read()
"""


@pytest.mark.parametrize("ending", ["exit", "hang"])
def test_no_server_outlives_its_process(tmp_path: Path, ending: str) -> None:
    """Whether the test process exits or is killed (a crashed pytest worker), its server ends."""
    folder = project(tmp_path / "project", HELPER)
    assert outlived_by(START_AND_REPORT, [str(folder)], ending, ROOT) == []


WITHOUT_COLLECTIONS = """
import gc, sys
sys.path.insert(0, sys.argv[1])
import mypy_server
mypy_server.without_collections()
gc.enable()  # what mypy's build does after loading the graph, and each batch of cached modules
gc.set_threshold(200 * 1000, 30, 30)
print(gc.isenabled(), gc.get_threshold()[0] != 200 * 1000)
"""


def test_a_check_collects_no_garbage_even_where_mypy_turns_the_collector_on() -> None:
    child = ROOT / "tests" / "matrix" / "child"
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_COLLECTIONS, str(child)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.split() == ["False", "True"], done.stdout + done.stderr
