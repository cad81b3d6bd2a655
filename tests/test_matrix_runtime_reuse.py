"""Tier 2 is reused only while every path its commands read is unchanged: files opened (imports
included), folders listed, and paths merely probed for existence; each group of the project's
tests on its own, so a capability's group is reused where another capability's package differs."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaffold.catalog import CATALOG
from scaffold.selection import Selection
from tests.matrix.project_env import base_env
from tests.matrix.reuse import Store
from tests.matrix.runner import ForkServer, warm_modules
from tests.matrix.runtime_checks import START, Combination, Worker, runtime_tier
from tests.matrix.runtime_groups import CORE, SERVICE, group_name
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
    "tests/unit/core/test_request_id_after_fork.py",
)


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[tuple[Worker, Path]]:
    python = shared_python()
    project = render(Selection(capabilities=frozenset(), variants={}), tmp_path / "w", None)
    (project / "tests" / "unit" / "test_probing.py").write_text(PROBING_TEST)
    # The tests that start processes are keyed by their children's reads too (see
    # test_matrix_read_trace.py); these tests are about what a run reads itself, and run
    # quicker without them.
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


def test_a_group_is_reused_where_only_another_capability_package_differs(
    worker: tuple[Worker, Path],
) -> None:
    """Two capability packages of the catalog, as a toy: the first has a test group that
    imports it, the second only its package. A combination without the second, or with it
    changed, reuses the first's group; an edit to what the first's group read runs it again.
    The core's tests (`tests/unit/core/`, and `tests/integration/core/` on an app of no
    capability) are reused where the list of capabilities differs."""
    runs, project = worker
    first, second = sorted({c.package for c in CATALOG if c.package})[:2]
    package = project / "src" / "matrix_svc"
    (package / first).mkdir()
    (package / first / "__init__.py").write_text("VALUE = 1\n")
    (package / second).mkdir()
    (package / second / "__init__.py").write_text("OTHER = 1\n")
    tests = project / "tests" / "unit" / first
    tests.mkdir()
    (tests / "__init__.py").write_text("")
    (tests / "test_value.py").write_text(
        f"from matrix_svc.{first} import VALUE\n\n\ndef test_value() -> None:\n"
        "    assert VALUE == 1\n"
    )

    core_groups = (group_name(CORE, "unit"), group_name(CORE, "integration"))
    sources: dict[str, list[str | None]] = {SERVICE: [], **{name: [] for name in core_groups}}

    def group(label: str) -> tuple[str | None, str, str]:
        result = runtime_tier(Combination(label, frozenset(), project, "matrix_svc"), runs)
        groups = result.details["groups"]
        sources[SERVICE].append(groups[SERVICE]["reused_from"])
        for name in core_groups:
            sources[name].append(groups[name]["reused_from"])
        row = groups[group_name(first, "unit")]
        return row["reused_from"], row["outcome"], result.message

    assert group("both")[:2] == (None, "passed")
    (package / second / "__init__.py").write_text("OTHER = 2\n")
    (package / second / "more.py").write_text("")
    assert group("second changed")[:2] == ("both", "passed")
    listed = (package / "capabilities.py").read_text()
    (package / "capabilities.py").write_text(f"{listed}\n# another list of capabilities\n")
    assert group("capabilities changed")[:2] == ("both", "passed")
    # the service group read the list of capabilities and ran again; the core's tests, which
    # read no capability, are reused where it differs
    assert sources[SERVICE][-1] is None
    assert [sources[name] for name in core_groups] == [[None, "both", "both"]] * 2
    (package / "capabilities.py").write_text(listed)
    for path in sorted((package / second).iterdir()):
        path.unlink()
    (package / second).rmdir()
    assert group("without second")[:2] == ("both", "passed")

    (package / first / "__init__.py").write_text("VALUE = 2\n")  # read by the group
    reused_from, outcome, message = group("first edited")
    assert (reused_from, outcome) == (None, "failed")
    assert f"[group {group_name(first, 'unit')}]" in message and "test_value" in message
    (package / first / "__init__.py").write_text("VALUE = 1\n")
    (package / first / "late.py").write_text("")  # a sibling module nobody imports
    assert group("first restored")[:2] == ("both", "passed")


CHILD_TEST = """\
import os
import subprocess
import sys


def test_a_child_process_sees_the_value() -> None:
    program = "from matrix_svc.{first} import VALUE; assert VALUE == 1, VALUE"
    environment = {{**os.environ, "PYTHONPATH": "src"}}
    subprocess.run([sys.executable, "-c", program], env=environment, check=True)
"""


def test_a_group_whose_test_starts_a_python_child_is_keyed_by_what_the_child_read(
    worker: tuple[Worker, Path],
) -> None:
    """The group's test imports nothing of the package: only the child it starts does. The
    group is reused while what the child read is unchanged, and runs again (failing) after an
    edit to it; a test that starts a child without the trace in its environment leaves it not
    reusable."""
    runs, project = worker
    first = sorted({c.package for c in CATALOG if c.package})[0]
    package = project / "src" / "matrix_svc"
    (package / first).mkdir()
    (package / first / "__init__.py").write_text("VALUE = 1\n")
    tests = project / "tests" / "unit" / first
    tests.mkdir()
    (tests / "__init__.py").write_text("")
    (tests / "test_child.py").write_text(CHILD_TEST.format(first=first))

    def group(label: str) -> dict[str, object]:
        result = runtime_tier(Combination(label, frozenset(), project, "matrix_svc"), runs)
        row: dict[str, object] = result.details["groups"][group_name(first, "unit")]
        return {**row, "message": result.message}

    ran = group("first")
    assert (ran["reused_from"], ran["outcome"], ran["reusable"]) == (None, "passed", True)
    assert group("again")["reused_from"] == "first"
    (package / first / "__init__.py").write_text("VALUE = 2\n")  # read by the child only
    edited = group("edited")
    assert (edited["reused_from"], edited["outcome"]) == (None, "failed")
    assert "test_a_child_process_sees_the_value" in str(edited["message"])

    (package / first / "__init__.py").write_text("VALUE = 1\n")
    (tests / "test_untraced.py").write_text(
        "import subprocess\nimport sys\n\n\ndef test_untraced() -> None:\n"
        "    subprocess.run([sys.executable, '-c', 'pass'], check=True, env={})\n"
    )
    untraced = group("untraced child")
    assert (untraced["reused_from"], untraced["outcome"], untraced["reusable"]) == (
        None, "passed", False,
    )  # fmt: skip
    assert group("untraced child again")["reused_from"] is None


def test_an_integration_group_is_reused_where_only_a_capability_it_does_not_meet_differs(
    tmp_path: Path,
) -> None:
    """The real template: `caching`'s integration group (an app of the cache and Redis alone)
    is reused by `caching+cicd`, whose tree differs in the release capability's package,
    configuration and workflow; an edit to the cache's own module runs it again, failing."""
    python = shared_python()
    folder, logs = tmp_path / "w", tmp_path / "logs"
    logs.mkdir()
    caching = CATALOG.get("caching")
    assert caching is not None and caching.package
    cache = group_name(caching.package, "integration")

    def rendered(capabilities: frozenset[str]) -> Path:
        project = render(Selection(capabilities=capabilities, variants={}), folder, None)
        # Only the capabilities' folders: the service's own tests are not what this is about.
        for kind in ("integration", "unit"):
            for path in (project / "tests" / kind).glob("test_*.py"):
                path.unlink()
        for release in ("integration", "unit"):
            shutil.rmtree(project / "tests" / release / "release", ignore_errors=True)
        shutil.rmtree(project / "tests" / "integration" / CORE)
        return project

    project = rendered(frozenset({"caching"}))
    requirements = json.loads((VENV / "requirements.json").read_text())
    runner = ForkServer(
        python, base_env(python, project), warm_modules(python, requirements), logs / "zygote.log"
    )
    runs = Worker(runner, python, logs, Store(tmp_path / "store"), "environment")

    def group(label: str, capabilities: frozenset[str]) -> tuple[str | None, str, str]:
        combination = Combination(label, capabilities, project, "matrix_svc")
        result = runtime_tier(combination, runs)
        row = result.details["groups"][cache]
        return row["reused_from"], row["outcome"], result.message

    try:
        assert group("caching", frozenset({"caching"}))[:2] == (None, "passed")
        with_cicd = frozenset({"caching", "cicd"})
        assert rendered(with_cicd) == project
        assert (project / "src" / "matrix_svc" / "release").is_dir()
        assert group("caching+cicd", with_cicd)[:2] == ("caching", "passed")

        config = project / "src" / "matrix_svc" / "cache" / "config.py"
        config.write_text(
            config.read_text().replace("cache_enabled: bool = True", "cache_enabled: bool = False")
        )
        reused_from, outcome, message = group("cache edited", with_cicd)
        assert (reused_from, outcome) == (None, "failed")
        assert f"[group {cache}]" in message
    finally:
        runner.close()


def test_a_combination_with_cicd_reuses_its_twins_runtime_parts(tmp_path: Path) -> None:
    """The real template: CI/CD has no runtime part, so `cicd` renders every file the service's
    tests, migrations and boot read as the base does, and lists its test folders where the
    service group ignores them (pytest's listing of `tests/unit/` is keyed as a view without
    them). Every part of the base is reused by `cicd` but release's own groups; a real change
    to a shared file (a new test beside the service's) still misses."""
    python = shared_python()
    folder, logs = tmp_path / "w", tmp_path / "logs"
    logs.mkdir()

    def rendered(capabilities: frozenset[str]) -> Path:
        project = render(Selection(capabilities=capabilities, variants={}), folder, None)
        for spawning in SPAWNING_TESTS:  # quicker; their children are traced as well
            (project / spawning).unlink()
        return project

    project = rendered(frozenset())
    requirements = json.loads((VENV / "requirements.json").read_text())
    runner = ForkServer(
        python, base_env(python, project), warm_modules(python, requirements), logs / "zygote.log"
    )
    runs = Worker(runner, python, logs, Store(tmp_path / "store"), "environment")

    def parts(label: str, capabilities: frozenset[str]) -> dict[str, str | None]:
        result = runtime_tier(Combination(label, capabilities, project, "matrix_svc"), runs)
        assert result.outcome == "passed", result.message
        rows = {**result.details["groups"], **result.details["start"]}
        return {name: row["reused_from"] for name, row in rows.items()}

    release = CATALOG.get("cicd")
    assert release is not None and release.package and not release.runtime
    try:
        base = parts("base", frozenset())
        assert set(base.values()) == {None}
        assert rendered(frozenset({"cicd"})) == project
        assert (project / "tests" / "unit" / release.package).is_dir()
        twin = parts("cicd", frozenset({"cicd"}))
        own = {name for name in twin if name.startswith(release.package)}
        assert own and all(twin[name] is None for name in own)
        assert {name: twin[name] for name in base} == dict.fromkeys(base, "base")

        (project / "tests" / "unit" / "test_extra.py").write_text(
            "def test_extra() -> None:\n    assert True\n"
        )  # a name pytest lists in tests/unit/ and collects: the service group's input
        edited = parts("cicd, a test added", frozenset({"cicd"}))
        assert edited[SERVICE] is None
        assert edited[START] == "base"
    finally:
        runner.close()
