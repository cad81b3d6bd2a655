"""`scaffold add` and `scaffold remove`: updates with changed answers, under the catalog's rules.

They run on the packaged template, so they use whichever capabilities this version implements.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from scaffold import __version__
from scaffold.catalog import CATALOG, Catalog
from scaffold.commands import change
from scaffold.template_source import packaged_template
from tests.lifecycle.conftest import append, commit_all, git, repo_state, worktree
from tests.support.cli import refused, run_cli
from tests.support.disk import snapshot

AVAILABLE = [c.name for c in CATALOG.available]
NOT_YET = next((c.name for c in CATALOG if not c.available), None)


def test_there_are_capabilities_to_add_and_remove() -> None:
    """The tests below need two available capabilities; fail loudly rather than skip."""
    assert len(AVAILABLE) >= 2, AVAILABLE


def answers(project: Path) -> dict[str, object]:
    loaded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def own_package(project: Path, capability: str) -> Path:
    """The capability's own package: the template's `{% if NAME %}X{% endif %}` folder under
    `src/{{ package_name }}/`, as rendered in ``project``."""
    named = "{% if " + capability + " %}"
    folders = (packaged_template() / "project" / "src" / "{{ package_name }}").iterdir()
    own = next(f.name for f in folders if f.is_dir() and f.name.startswith(named))
    return project / "src" / "demo" / own.removeprefix(named).removesuffix("{% endif %}")


def own_files(project: Path, capability: str) -> list[Path]:
    return sorted(own_package(project, capability).rglob("*.py"))


def test_add_then_remove_a_capability(base_project: Path) -> None:
    name = AVAILABLE[0]
    added = run_cli("add", name, "-C", str(base_project))
    assert added.exit_code == 0, added.stderr
    assert added.stdout.startswith(f"Added {name} (template {__version__}): ")  # failure 15
    assert added.stdout.endswith(" file(s) changed, committed.\n")
    assert answers(base_project)[name] is True
    assert git(base_project, "status", "--porcelain") == ""
    files = own_files(base_project, name)
    assert files, f"adding {name} brought no package of its own"

    removed = run_cli("remove", name, "-C", str(base_project))
    assert removed.exit_code == 0, removed.stderr
    assert removed.stdout.startswith(f"Removed {name} (template {__version__}): ")
    assert answers(base_project)[name] is False
    assert not any(f.exists() for f in files)
    assert git(base_project, "status", "--porcelain") == ""


def test_removing_keeps_the_files_the_user_edited_as_conflicts(workdir: Path) -> None:
    name = AVAILABLE[0]
    assert run_cli("new", "demo", "--yes", "--with", name).exit_code == 0
    project = workdir / "demo"
    edited, *untouched = own_files(project, name)
    append(edited, "# our tweak\n")
    commit_all(project)
    before = worktree(project)

    outcome = run_cli("remove", name, "-C", str(project))

    assert outcome.exit_code == 1
    assert f"  {edited.relative_to(project)}: deleted by the template, changed by you\n" in (
        outcome.stderr
    )
    assert "Resolve the markers" not in outcome.stderr, "a modify/delete conflict has none"
    assert "keep it (`git add FILE`) or delete it (`git rm FILE`)" in outcome.stderr
    assert edited.read_text().endswith("# our tweak\n"), "the user's work is still there"
    assert not any(f.exists() for f in untouched)
    git(project, "cherry-pick", "--abort")
    assert worktree(project) == before


def test_add_dry_run_touches_nothing(base_project: Path) -> None:
    before = snapshot(base_project)
    outcome = run_cli("add", AVAILABLE[0], "--dry-run", "-C", str(base_project))
    assert outcome.exit_code == 0, outcome.stderr
    assert "+++ b/src/demo/" in outcome.stdout
    assert "nothing was touched (--dry-run)" in outcome.stdout
    assert snapshot(base_project) == before


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["add", "cachng"], "unknown capability 'cachng'; did you mean 'caching'?"),
        (["remove", "cachng"], "unknown capability 'cachng'; did you mean 'caching'?"),
        (["add", "kafak"], "unknown capability 'kafak'"),
        (["remove", "caching"], "the project does not have caching; nothing to remove"),
        *([(["add", NOT_YET], "not available yet")] if NOT_YET else []),
    ],
)
def test_add_and_remove_refusals(base_project: Path, command: list[str], message: str) -> None:
    before = snapshot(base_project)
    refused(run_cli(*command, "-C", str(base_project)), message)
    assert snapshot(base_project) == before


def test_adding_a_capability_the_project_has_is_refused(workdir: Path) -> None:
    name = AVAILABLE[0]
    assert run_cli("new", "demo", "--yes", "--with", name).exit_code == 0
    before = snapshot(workdir)
    refused(run_cli("add", name, "-C", "demo"), f"the project already has {name}")
    assert snapshot(workdir) == before


def test_removing_a_capability_another_requires_is_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No two capabilities available today require one another, so the catalog here is a toy:
    the real one with the first available capability requiring the second."""
    needed, needing = AVAILABLE[1], AVAILABLE[0]
    toy = Catalog(
        tuple(
            dataclasses.replace(c, requires=c.requires | {needed}) if c.name == needing else c
            for c in CATALOG
        ),
        CATALOG.presets,
    )
    monkeypatch.setattr(change, "CATALOG", toy)
    assert run_cli("new", "demo", "--yes", "--with", f"{needed},{needing}").exit_code == 0
    before = snapshot(workdir)
    refused(
        run_cli("remove", needed, "-C", "demo"),
        f"cannot remove {needed}: {needing} requires it (remove {needing} as well)",
    )
    assert snapshot(workdir) == before


def test_failure_12_remove_refuses_while_your_own_code_imports_its_package(
    base_project: Path,
) -> None:
    name = AVAILABLE[0]
    assert run_cli("add", name, "-C", str(base_project)).exit_code == 0
    package = own_package(base_project, name)
    module = f"demo.{package.name}"
    mine = base_project / "src" / "demo" / "reports.py"
    mine.write_text(f"from {module} import *  # noqa: F403\n")
    commit_all(base_project, "reports use it")
    before = repo_state(base_project)

    refused(run_cli("remove", name, "-C", str(base_project)),
            f"src/demo/reports.py still imports {module}")  # fmt: skip
    assert repo_state(base_project) == before

    forced = run_cli("remove", name, "--force", "-C", str(base_project))
    assert forced.exit_code == 0, forced.stderr
    assert not package.exists()
    assert mine.is_file()
