"""`uv.lock` follows `pyproject.toml` through the lifecycle: `scaffold merge` makes it again from
the merged `pyproject.toml` (a derived file is never merged as text) and keeps what the users
wrote there; a change left in conflict says to lock before committing.

Two branches each add a capability and, by hand, a dependency whose lock entries sort next to
the other's (`annotated-types` and `anyio`, both already in the lock as transitive
dependencies, so uv needs nothing new from the index): git's line merge of the locks conflicts.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from scaffold.lifecycle.derived import LOCK_AFTER_PYPROJECT
from tests.lifecycle.conftest import commit_all, git, repo_state
from tests.support.cli import Outcome, only_git_on_path, refused, run_cli

ANCHOR = '    "fastapi>=0.165",\n'
OURS_DEPENDENCY = '    "anyio>=4",  # feat-a, by hand\n'
THEIRS_DEPENDENCY = '    "annotated-types>=0.7",  # feat-b, by hand\n'
DEV_ANCHOR = '    "pytest>=9.2",\n'

Edit = Callable[[str], str]


def uv(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("uv")
    assert binary, "uv is on PATH where scaffold's tests run"
    return subprocess.run([binary, *args, "--no-progress"], cwd=project, capture_output=True,
                          text=True, check=False)  # fmt: skip


def edit_pyproject(project: Path, edit: Edit) -> None:
    path = project / "pyproject.toml"
    before = path.read_text(encoding="utf-8")
    after = edit(before)
    assert after != before, "the edit applies"
    path.write_text(after, encoding="utf-8")


def branch(project: Path, name: str, capability: str, edit: Edit) -> None:
    """A branch from main that adds ``capability`` and then edits pyproject.toml by hand, locked
    again with `uv lock` as its user would."""
    git(project, "switch", "--quiet", "--create", name, "main")
    added = run_cli("add", capability, "-C", str(project))
    assert added.exit_code == 0, added.stdout + added.stderr
    assert uv(project, "lock", "--check").returncode == 0, "`scaffold add` locked again"
    edit_pyproject(project, edit)
    locked = uv(project, "lock")
    assert locked.returncode == 0, locked.stderr
    commit_all(project, f"{name}: my own dependency")


def two_branches(project: Path, ours: Edit, theirs: Edit) -> None:
    for config in (("user.name", "test"), ("user.email", "test@localhost")):
        git(project, "config", *config)
    branch(project, "feat-a", "caching", ours)
    branch(project, "feat-b", "rate_limiting", theirs)
    git(project, "switch", "--quiet", "feat-a")


def after_anchor(line: str) -> Edit:
    return lambda text: text.replace(ANCHOR, ANCHOR + line, 1)


def in_dev_group(line: str) -> Edit:
    return lambda text: text.replace(DEV_ANCHOR, DEV_ANCHOR + line, 1)


def git_merge_conflicts(project: Path) -> list[str]:
    """The files git's own merge of feat-b into HEAD leaves in conflict (nothing is touched)."""
    merged = subprocess.run(
        ["git", "merge-tree", "--write-tree", "--name-only", "HEAD", "feat-b"],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert merged.returncode in (0, 1), merged.stderr
    return merged.stdout.split("\n\n", 1)[0].splitlines()[1:]


def keep_both_sides(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    markers = ("<<<<<<<", "=======", ">>>>>>>")
    path.write_text("".join(line for line in lines if line[:7] not in markers), encoding="utf-8")


def scaffold_merge(project: Path) -> Outcome:
    return run_cli("merge", "feat-b", "-C", str(project))


def test_the_lock_is_made_from_the_merged_pyproject_and_both_users_edits_stay(
    base_project: Path,
) -> None:
    two_branches(base_project, after_anchor(OURS_DEPENDENCY), in_dev_group(THEIRS_DEPENDENCY))
    assert "uv.lock" in git_merge_conflicts(base_project), "the locks' entries are neighbours"

    merged = scaffold_merge(base_project)

    assert merged.exit_code == 0, merged.stdout + merged.stderr
    assert "Merged feat-b" in merged.stdout
    pyproject = (base_project / "pyproject.toml").read_text(encoding="utf-8")
    assert OURS_DEPENDENCY in pyproject and THEIRS_DEPENDENCY in pyproject
    lock = (base_project / "uv.lock").read_text(encoding="utf-8")
    assert "<<<<<<<" not in lock
    assert git(base_project, "status", "--porcelain") == "", "merged and committed"
    # A fresh `uv lock` of the merged pyproject.toml changes nothing: the lock is uv's own.
    relocked = uv(base_project, "lock")
    assert relocked.returncode == 0, relocked.stderr
    assert (base_project / "uv.lock").read_text(encoding="utf-8") == lock
    assert uv(base_project, "lock", "--check").returncode == 0
    for name in ("anyio", "annotated-types"):
        assert f'{{ name = "{name}", specifier' in lock, f"{name} is a requirement in the lock"


def test_in_a_monorepo_the_service_s_own_lock_follows_add_and_merge(workdir: Path) -> None:
    mono = workdir / "mono"
    mono.mkdir()
    git(mono, "init", "--quiet", "-b", "main")
    (mono / "README.md").write_text("# Our services\n")
    commit_all(mono, "monorepo")
    made = run_cli("new", "payments", "--yes", "--output-dir", str(mono / "services"))
    assert made.exit_code == 0, made.stderr
    service = mono / "services" / "payments"
    two_branches(service, after_anchor(OURS_DEPENDENCY), in_dev_group(THEIRS_DEPENDENCY))

    merged = scaffold_merge(service)

    assert merged.exit_code == 0, merged.stdout + merged.stderr
    assert git(mono, "status", "--porcelain") == ""
    assert not (mono / "uv.lock").exists(), "the service's lock, not one at the top"
    pyproject = (service / "pyproject.toml").read_text(encoding="utf-8")
    assert OURS_DEPENDENCY in pyproject and THEIRS_DEPENDENCY in pyproject
    assert uv(service, "lock", "--check").returncode == 0


def test_a_conflict_in_pyproject_leaves_the_lock_to_make_after_it_is_resolved(
    base_project: Path,
) -> None:
    same_place = '    "alembic>=1.20",\n'
    two_branches(
        base_project,
        lambda text: text.replace(same_place, same_place + OURS_DEPENDENCY, 1),
        lambda text: text.replace(same_place, same_place + THEIRS_DEPENDENCY, 1),
    )
    ours_lock = (base_project / "uv.lock").read_bytes()

    merged = scaffold_merge(base_project)

    assert merged.exit_code == 1
    assert f"  uv.lock: {LOCK_AFTER_PYPROJECT}" in merged.stderr.splitlines()
    assert "  pyproject.toml: " in merged.stderr
    unmerged = git(base_project, "diff", "--name-only", "--diff-filter=U").split()
    assert unmerged == ["pyproject.toml", "uv.lock"]
    assert (base_project / "uv.lock").read_bytes() == ours_lock, "this branch's, no markers"
    # The user resolves pyproject.toml (keeping both lines), then locks, as the line says.
    pyproject = base_project / "pyproject.toml"
    keep_both_sides(pyproject)
    assert uv(base_project, "lock").returncode == 0
    git(base_project, "add", "pyproject.toml", "uv.lock")
    git(base_project, "commit", "--quiet", "--no-edit")
    text = pyproject.read_text(encoding="utf-8")
    assert OURS_DEPENDENCY in text and THEIRS_DEPENDENCY in text
    assert uv(base_project, "lock", "--check").returncode == 0


def test_when_the_lock_cannot_be_made_nothing_is_touched(
    base_project: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_branches(base_project, after_anchor(OURS_DEPENDENCY), in_dev_group(THEIRS_DEPENDENCY))
    before = repo_state(base_project)
    only_git_on_path(workdir.parent, monkeypatch)

    refused(scaffold_merge(base_project), "uv.lock cannot be made from the merged pyproject.toml "
            "(uv is not installed")  # fmt: skip

    assert repo_state(base_project) == before


def test_an_add_that_conflicts_in_pyproject_says_to_lock_before_committing(
    base_project: Path,
) -> None:
    for config in (("user.name", "test"), ("user.email", "test@localhost")):
        git(base_project, "config", *config)
    last_line = next(x for x in (base_project / "pyproject.toml").read_text().splitlines(True)
                     if x.startswith('    "botocore>='))  # fmt: skip
    edit_pyproject(base_project, lambda text: text.replace(last_line, last_line + OURS_DEPENDENCY))
    assert uv(base_project, "lock").returncode == 0
    commit_all(base_project, "my own dependency where caching adds Redis's")

    added = run_cli("add", "caching", "-C", str(base_project))

    assert added.exit_code == 1
    assert "  pyproject.toml: changed by you and by the template" in added.stderr.splitlines()
    assert added.stderr.splitlines()[-1] == (
        "scaffold: warning: uv.lock still pins what pyproject.toml asked before this change: "
        "once that is resolved, run `uv lock` and `git add uv.lock` before you `git commit`"
    )
    keep_both_sides(base_project / "pyproject.toml")
    assert uv(base_project, "lock").returncode == 0
    git(base_project, "add", "pyproject.toml", "uv.lock")
    git(base_project, "commit", "--quiet", "--no-edit")
    assert uv(base_project, "lock", "--check").returncode == 0
    assert OURS_DEPENDENCY in (base_project / "pyproject.toml").read_text(encoding="utf-8")


def configured(project: Path) -> None:
    for config in (("user.name", "test"), ("user.email", "test@localhost")):
        git(project, "config", *config)


def test_a_lock_the_other_branch_left_behind_its_pyproject_is_made_again(
    base_project: Path,
) -> None:
    configured(base_project)
    git(base_project, "switch", "--quiet", "--create", "feat-b", "main")
    assert run_cli("add", "rate_limiting", "-C", str(base_project)).exit_code == 0
    git(base_project, "checkout", "main", "--", "uv.lock")  # as if added where uv was missing
    commit_all(base_project, "feat-b: the lock left behind")
    git(base_project, "switch", "--quiet", "--create", "feat-a", "main")
    with (base_project / "README.md").open("a", encoding="utf-8") as readme:
        readme.write("\nOur notes.\n")
    commit_all(base_project, "feat-a: notes")

    merged = scaffold_merge(base_project)

    assert merged.exit_code == 0, merged.stdout + merged.stderr
    assert uv(base_project, "lock", "--check").returncode == 0, "the merge made the lock again"


def test_a_lock_one_branch_stopped_tracking_stays_a_conflict(base_project: Path) -> None:
    configured(base_project)
    git(base_project, "switch", "--quiet", "--create", "feat-b", "main")
    assert run_cli("add", "rate_limiting", "-C", str(base_project)).exit_code == 0
    git(base_project, "switch", "--quiet", "--create", "feat-a", "main")
    git(base_project, "rm", "--quiet", "uv.lock")
    commit_all(base_project, "feat-a: no lock here")

    merged = scaffold_merge(base_project)

    assert "uv.lock" in merged.stdout + merged.stderr, "the deletion is shown, not undone"
    unmerged = git(base_project, "diff", "--name-only", "--diff-filter=U")
    assert unmerged.splitlines() == ["uv.lock"]
