"""Tier 2's test groups: one per capability package and test folder, and the service group
with the same arguments in every combination; their probe summaries merge into one run's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scaffold.catalog import CATALOG
from tests.matrix.runtime_groups import (
    CORE,
    SERVICE,
    Group,
    groups,
    merged,
    nothing_left_to_run,
)

PACKAGES = sorted({c.package for c in CATALOG if c.package})
BASE = ["-q"]


def project_with(tmp_path: Path, folders: list[str]) -> Path:
    for folder in folders:
        (tmp_path / folder).mkdir(parents=True)
    return tmp_path


def test_a_group_per_capability_package_and_test_folder_and_the_service_group(
    tmp_path: Path,
) -> None:
    first, second = PACKAGES[:2]
    project = project_with(
        tmp_path, [f"tests/integration/{first}", f"tests/unit/{first}", f"tests/unit/{second}"]
    )
    found = {group.name: group for group in groups(project)}
    assert set(found) == {SERVICE, first, f"{first}-unit", f"{second}-unit"}
    assert found[first].folders == (f"tests/integration/{first}",)
    assert found[f"{first}-unit"].folders == (f"tests/unit/{first}",)
    assert found[f"{second}-unit"].folders == (f"tests/unit/{second}",)


def test_the_service_group_ignores_every_capability_of_the_catalog_in_every_project(
    tmp_path: Path,
) -> None:
    bare = groups(project_with(tmp_path / "bare", []))
    full = groups(project_with(tmp_path / "full", [f"tests/unit/{p}" for p in PACKAGES]))
    assert [g.name for g in bare] == [SERVICE]
    (service,) = bare
    assert service == full[0]
    args = service.args(BASE, (), "probe.json")
    for package in PACKAGES:
        assert f"--ignore=tests/integration/{package}" in args
        assert f"--ignore=tests/unit/{package}" in args


def test_the_core_tests_are_a_group_of_their_own_that_the_service_group_always_ignores(
    tmp_path: Path,
) -> None:
    assert CORE not in PACKAGES
    bare = groups(project_with(tmp_path / "bare", []))
    cored = groups(project_with(tmp_path / "core", [f"tests/unit/{CORE}"]))
    assert [g.name for g in cored] == [SERVICE, f"{CORE}-unit"]
    assert cored[1].folders == (f"tests/unit/{CORE}",)
    assert cored[0] == bare[0]
    args = cored[0].args(BASE, (), "probe.json")
    assert f"--ignore=tests/unit/{CORE}" in args
    assert f"--ignore=tests/integration/{CORE}" in args
    assert not cored[0].owns(f"tests/unit/{CORE}/test_a.py::test_b")
    assert cored[0].owns("tests/unit/test_settings_errors.py::test_b")


def test_a_part_of_a_capability_s_tests_is_a_group_the_service_group_ignores_by_pattern(
    tmp_path: Path,
) -> None:
    """`tests/<kind>/<package>_<part>/` (the template's `sharding_reshard`): a group of its own,
    beside the capability's; the service group's arguments leave out every such folder by a
    pattern, and are the same whether one is present or not."""
    package = PACKAGES[0]
    part = f"{package}_command"
    bare = groups(project_with(tmp_path / "bare", []))
    split = groups(
        project_with(
            tmp_path / "split", [f"tests/integration/{package}", f"tests/integration/{part}"]
        )
    )
    found = {group.name: group for group in split}
    assert set(found) == {SERVICE, package, part}
    assert found[part].folders == (f"tests/integration/{part}",)
    assert found[package].folders == (f"tests/integration/{package}",)
    service = found[SERVICE]
    assert service == bare[0]
    args = service.args(BASE, (), "probe.json")
    for every in PACKAGES:
        assert f"--ignore-glob=tests/integration/{every}_*" in args
        assert f"--ignore-glob=tests/unit/{every}_*" in args
    assert not service.owns(f"tests/integration/{part}/test_a.py::test_b")
    assert not found[package].owns(f"tests/integration/{part}/test_a.py::test_b")
    assert found[part].owns(f"tests/integration/{part}/test_a.py::test_b")
    assert service.owns(f"tests/integration/test_{package}_x.py::test_b")


IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+([\w.{} ]+?)(?:[ \t]+import\b|$)", re.M)
"""One import statement's module, on its own line (``import a`` on the line after ``import b``
is a statement of its own)."""
LISTS_THE_CAPABILITIES = re.compile(r"\.(config|capabilities)$|(^|\.)fixtures(\.|$)")
"""Modules whose import makes a run read every capability's code: the settings, the
capability list, the fixture modules. (`main.py` imports the list only in `create_app`, when
no capabilities are given: `WHOLE_APP`.)"""
WHOLE_APP = re.compile(r"^(?!from |import ).*\bcreate_app\b(?!\(\s*\w+\s*,)", re.MULTILINE)
"""`create_app` but where it is imported or called with a list of capabilities: the whole
service's app (`capabilities.py`), called so or handed on to be."""
CORE_FOLDERS = Path(__file__).parents[1] / "templates/service/project/tests"
CORE_GROUPS = {"unit": f'group("{CORE}")', "integration": f'group("{CORE}", app=())'}
"""How each core folder's conftest declares its group: no fixture module; the integration
tests' app and database of the core alone (the tests' shared fixtures build them)."""


def run_time_imports(text: str) -> list[str]:
    """The modules imported when the module runs: not those under ``if TYPE_CHECKING:``."""
    kept: list[str] = []
    typing_only = False
    for line in text.splitlines():
        if line.startswith("if TYPE_CHECKING:"):
            typing_only = True
        elif typing_only and line and not line[0].isspace():
            typing_only = False
        if not typing_only:
            kept.append(line)
    return [m.group(1) for m in IMPORT.finditer("\n".join(kept))]


@pytest.mark.parametrize("kind", sorted(CORE_GROUPS))
def test_the_template_s_core_tests_read_no_capability(kind: str) -> None:
    """What a core group holds is the same in every combination only while its modules import
    nothing that lists the capabilities (the settings, the app, the fixture modules) when they
    run, and its conftest declares the group (its session loads no capability's fixture module
    and, for the integration tests, builds an app of no capability: `build_app`)."""
    folder = CORE_FOLDERS / kind / CORE
    modules = sorted(folder.glob("test_*"))
    assert modules, folder
    for module in modules:
        text = module.read_text(encoding="utf-8")
        assert "{%" not in text, module.name
        imported = run_time_imports(text)
        assert imported, module.name
        for name in imported:
            assert not LISTS_THE_CAPABILITIES.search(name), (module.name, name)
        assert not WHOLE_APP.search(text), module.name
    conftest = (folder / "conftest.py").read_text(encoding="utf-8")
    assert CORE_GROUPS[kind] in conftest


def test_imports_for_types_alone_are_not_run_time_imports() -> None:
    text = "import a\nimport c\nif TYPE_CHECKING:\n    from p.config import S\n\nimport b.main\n"
    assert run_time_imports(text) == ["a", "c", "b.main"]


def test_each_group_gets_only_the_covered_tests_it_runs() -> None:
    package = PACKAGES[0]
    mine = f"tests/integration/{package}/test_rules.py::test_a"
    other = "tests/unit/test_settings_errors.py::test_b"
    group = Group(package, (f"tests/integration/{package}",))
    service = Group(SERVICE, (), (f"tests/integration/{package}",))
    assert f"--matrix-covered={mine}" in group.args(BASE, (mine, other), "p")
    assert f"--matrix-covered={other}" in service.args(BASE, (mine, other), "p")
    assert not any(a.startswith("--matrix-covered") for a in group.args(BASE, (other,), "p"))


def summary(passed: int, **extra: object) -> dict[str, object]:
    return {
        "counts": {"passed": passed}, "interactions": [], "not_passed": [],
        "covered_by_tier_1": [], "module_seconds": {}, **extra,
    }  # fmt: skip


def test_summaries_merge_into_one_runs() -> None:
    interaction = {"test": "b::t", "capabilities": ["x", "y"], "outcome": "passed"}
    one = summary(3, not_passed=["a::skipped"], module_seconds={"a": 1.0})
    two = summary(2, interactions=[interaction], covered_by_tier_1=["b::c"])
    two["counts"] = {"passed": 2, "skipped": 1}
    whole = merged([one, two])
    assert whole["counts"] == {"passed": 5, "skipped": 1}
    assert whole["not_passed"] == ["a::skipped"]
    assert whole["interactions"] == [interaction]
    assert whole["covered_by_tier_1"] == ["b::c"]
    assert whole["module_seconds"] == {"a": 1.0}


def test_no_tests_collected_passes_only_when_tier_1_made_them_all() -> None:
    assert nothing_left_to_run(5, {**summary(0), "counts": {}, "covered_by_tier_1": ["a::b"]})
    assert not nothing_left_to_run(5, {**summary(0), "counts": {}})
    assert not nothing_left_to_run(5, None)
    assert not nothing_left_to_run(1, {**summary(0), "counts": {}, "covered_by_tier_1": ["a::b"]})
