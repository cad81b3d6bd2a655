"""A team template whose v1 is this repository's template at an old commit and whose v2 is
today's, projects made at v1, and the check that one of them updates to v2 cleanly: no
conflict, the user's edits kept, every other file what v2 renders."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path

from scaffold.lifecycle.records import FOLDER, RECORDS
from scaffold.template_source import packaged_template
from tests.support.cli import run_cli
from tests.support.team_template import git

ROOT = Path(__file__).resolve().parents[2]
NOTES = "Our own notes, which no update may touch.\n"
README_LINE = "Our on-call rota is in the wiki.\n"
LOCKS = frozenset({"uv.lock", ".terraform.lock.hcl"})


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


def team_template(commit: str, scratch: Path, projects: dict[str, list[str]]) -> Path:
    """The team template in `scratch/template` (tags v1: `commit`, v2: today), and a project
    `svc` made at v1 in `scratch/projects/<name>` for each name and its `new` flags."""
    repo = scratch / "template"
    shutil.copytree(template_at(commit, scratch / "old"), repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    git(repo, "tag", "v1")
    for name, flags in projects.items():
        made = run_cli(
            "new", "svc", "--yes", "--template", str(repo), *flags,
            "--output-dir", str(scratch / "projects" / name),
        )  # fmt: skip
        assert made.exit_code == 0, made.stderr
    for entry in repo.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.copytree(packaged_template(), repo, dirs_exist_ok=True)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v2")
    git(repo, "tag", "v2")
    return repo


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


def assert_updates_cleanly(made_at_v1: Path, template: Path, flags: list[str], work: Path) -> Path:
    """Copy a project made at v1 into `work`, commit the user's edits, update it to v2, and
    compare it with a fresh v2 render of the same flags plus those edits; the updated copy."""
    project = work / "svc"
    shutil.copytree(made_at_v1, project, symlinks=True)
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
        "new", "svc", "--yes", "--template", str(template), *flags,
        "--no-git", "--output-dir", str(work / "v2"),
    )  # fmt: skip
    assert fresh.exit_code == 0, fresh.stderr
    expected = files(work / "v2" / "svc")
    expected["NOTES.md"] = NOTES.encode()
    heading, body = expected["README.md"].split(b"\n", 1)
    expected["README.md"] = heading + b"\n" + README_LINE.encode() + body
    got = files(project)
    assert sorted(got) == sorted(expected)
    assert [path for path in got if got[path] != expected[path]] == []
    return project
