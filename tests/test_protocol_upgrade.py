"""A project made before the capability protocol updates to it cleanly, edits and all.

The template as it was at scaffold 0.1.0 (before capabilities plugged in through the protocol)
is taken from this repository's history; it and today's template become tags v1 and v2 of a
team template. A project made at v1 with each combination, with its own edits committed, is
updated to v2: the merge has no conflict, the user's edits stay, and every other file is what
v2 renders.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest

from scaffold.lifecycle.records import FOLDER, RECORDS
from scaffold.matrix import combinations
from scaffold.selection import Selection
from scaffold.template_source import packaged_template
from tests.support.cli import run_cli
from tests.support.team_template import git

ROOT = Path(__file__).resolve().parents[1]
BEFORE_THE_PROTOCOL = "cd41bf7"  # the last commit of scaffold 0.1.0's template
NOTES = "Our own notes, which no update may touch.\n"
README_LINE = "Our on-call rota is in the wiki.\n"
OLD_CAPABILITIES = ("caching", "rate_limiting")


def template_at(commit: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "templates/service"],
        capture_output=True,
        check=False,
    )
    assert archive.returncode == 0, (
        f"this test needs the repository's history ({commit}); clone without --depth: "
        + archive.stderr.decode(errors="replace")
    )
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "templates" / "service"


def old_combinations() -> list[Selection]:
    return [s for s in combinations() if s.capabilities <= set(OLD_CAPABILITIES)]


def with_flags(combination: Selection) -> list[str]:
    capabilities = sorted(combination.capabilities)
    return ["--with", ",".join(capabilities)] if capabilities else []


@dataclass(frozen=True)
class Upgrade:
    template: Path
    projects_at_v1: Path
    """One project per combination, made at v1, named by the combination's label."""


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory: pytest.TempPathFactory) -> Upgrade:
    scratch = tmp_path_factory.mktemp("upgrade")
    repo = scratch / "template"
    shutil.copytree(template_at(BEFORE_THE_PROTOCOL, scratch / "old"), repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    git(repo, "tag", "v1")
    projects = scratch / "projects"
    for combination in old_combinations():
        made = run_cli(
            "new", "svc", "--yes", "--template", str(repo), *with_flags(combination),
            "--output-dir", str(projects / combination.label()),
        )  # fmt: skip
        assert made.exit_code == 0, made.stderr
    for entry in repo.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.copytree(packaged_template(), repo, dirs_exist_ok=True)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v2")
    git(repo, "tag", "v2")
    return Upgrade(repo, projects)


LOCKS = frozenset({"uv.lock", ".terraform.lock.hcl"})


def files(root: Path) -> dict[str, bytes]:
    """The project's files; scaffold's records (.scaffold/) aside, which --no-git never writes,
    and the locks, which are resolved (not rendered) and so differ from one resolution to the
    next (tests/cli/test_new_lock.py and the relock after an update have tests of their own)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not {".git", FOLDER} & set(p.relative_to(root).parts)
        and p.name not in LOCKS
    }


@pytest.mark.parametrize(
    "combination", old_combinations(), ids=[s.label() for s in old_combinations()]
)
def test_a_project_from_before_the_protocol_updates_cleanly(
    combination: Selection, upgrade: Upgrade, tmp_path: Path
) -> None:
    project = tmp_path / "svc"
    shutil.copytree(upgrade.projects_at_v1 / combination.label() / "svc", project, symlinks=True)
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
        "new", "svc", "--yes", "--template", str(upgrade.template), *with_flags(combination),
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
