"""A project with CI/CD made before CI/CD lost its runtime part updates cleanly, edits and all.

Before, the release package had a protocol object (`release/capability.py`) and a settings
section (`release/config.py`), the service's lists named it, its fixtures were in
`tests/fixtures/release.py` and its workflow checks in `tests/unit/test_workflows.py`. The
template as it was then and today's become tags v1 and v2 of a team template; a project made at
v1, with its own edits committed, is updated to v2: no conflict, the user's edits stay, and
every other file is what v2 renders (the files v2 no longer has are gone).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scaffold.lifecycle.records import RECORDS
from scaffold.template_source import packaged_template
from tests.support.cli import run_cli
from tests.support.team_template import git
from tests.test_protocol_upgrade import NOTES, README_LINE, files, template_at

BEFORE_RUNTIME_LESS_CICD = "1134387"  # main before `Capability.runtime`
COMBINATIONS = (("cicd",), ("caching", "rate_limiting", "cicd"))
GONE = (
    "src/svc/release/capability.py",
    "src/svc/release/config.py",
    "tests/fixtures/release.py",
    "tests/unit/test_workflows.py",
)


@pytest.fixture(scope="module")
def team_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The team template (v1: then, v2: today) and a folder of projects made at v1."""
    scratch = tmp_path_factory.mktemp("cicd-upgrade")
    repo = scratch / "template"
    shutil.copytree(template_at(BEFORE_RUNTIME_LESS_CICD, scratch / "old"), repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    git(repo, "tag", "v1")
    projects = scratch / "projects"
    for capabilities in COMBINATIONS:
        made = run_cli(
            "new", "svc", "--yes", "--template", str(repo), "--with", ",".join(capabilities),
            "--output-dir", str(projects / "+".join(capabilities)),
        )  # fmt: skip
        assert made.exit_code == 0, made.stderr
    for entry in repo.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.copytree(packaged_template(), repo, dirs_exist_ok=True)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v2")
    git(repo, "tag", "v2")
    return repo, projects


@pytest.mark.parametrize("capabilities", COMBINATIONS, ids="+".join)
def test_a_project_with_cicd_updates_to_a_release_tool_without_runtime(
    capabilities: tuple[str, ...], team_template: tuple[Path, Path], tmp_path: Path
) -> None:
    template, projects = team_template
    project = tmp_path / "svc"
    shutil.copytree(projects / "+".join(capabilities) / "svc", project, symlinks=True)
    for path in GONE:
        assert (project / path).is_file(), f"v1 had {path}"
    (project / "NOTES.md").write_text(NOTES, encoding="utf-8")
    title, rest = (project / "README.md").read_text(encoding="utf-8").split("\n", 1)
    (project / "README.md").write_text(f"{title}\n{README_LINE}{rest}", encoding="utf-8")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "our notes")

    updated = run_cli("update", "--to", "v2", "--project", str(project))

    assert updated.exit_code == 0, updated.stdout + updated.stderr
    assert "conflict" not in (updated.stdout + updated.stderr).lower()
    assert git(project, "status", "--porcelain") == ""
    assert len(list((project / RECORDS).iterdir())) == 1, "one generation recorded: v2's"
    fresh = run_cli(
        "new", "svc", "--yes", "--template", str(template), "--with", ",".join(capabilities),
        "--no-git", "--output-dir", str(tmp_path / "v2"),
    )  # fmt: skip
    assert fresh.exit_code == 0, fresh.stderr
    expected = files(tmp_path / "v2" / "svc")
    expected["NOTES.md"] = NOTES.encode()
    heading, body = expected["README.md"].split(b"\n", 1)
    expected["README.md"] = heading + b"\n" + README_LINE.encode() + body
    got = files(project)
    assert sorted(got) == sorted(expected)
    assert [path for path in got if got[path] != expected[path]] == []
    assert not [path for path in GONE if (project / path).exists()]
    assert "release" not in (project / "src/svc/capabilities.py").read_text(encoding="utf-8")
