"""Whether the repository may be changed now: a commit to build on, no git operation half
done, the user's branch (not a generation) checked out, no uncommitted change to tracked files.

Only reads: `git status` runs without optional locks, so not even .git/index is refreshed.
"""

from __future__ import annotations

from pathlib import Path

from scaffold.errors import DirtyWorkingTree
from scaffold.git import READ_ONLY, git_status, run_git
from scaffold.lifecycle.refusals import GenerationCheckedOut, NoCommitYet, OperationInProgress
from scaffold.pristine import REF_PREFIX

_IN_PROGRESS = (
    ("MERGE_HEAD", "a merge", "resolve, git add, git commit",
     "git merge --abort; `scaffold merge BRANCH` merges a branch that made its own generation "
     "without the template's lines colliding"),
    ("CHERRY_PICK_HEAD", "an update or a cherry-pick", "resolve, git add, git commit",
     "git cherry-pick --abort"),
    ("REVERT_HEAD", "a revert", "resolve, git add, git revert --continue", "git revert --abort"),
    ("rebase-merge", "a rebase", "git rebase --continue", "git rebase --abort"),
    ("rebase-apply", "a rebase or git am", "git rebase --continue", "git rebase --abort"),
)  # fmt: skip


def require_ready(repo: Path) -> None:
    if git_status(repo, "rev-parse", "--verify", "--quiet", "HEAD").code != 0:
        raise NoCommitYet()
    markers = run_git(repo, "rev-parse", *(a for m in _IN_PROGRESS for a in ("--git-path", m[0])))
    for path, (_, what, finish, undo) in zip(markers.splitlines(), _IN_PROGRESS, strict=True):
        if (repo / path).exists():
            raise OperationInProgress(what, finish, undo)
    generation = run_git(repo, "for-each-ref", "--points-at", "HEAD", "--format=%(objectname)",
                         REF_PREFIX)  # fmt: skip
    if generation:
        raise GenerationCheckedOut(generation.split()[0])
    changed = uncommitted(repo)
    if changed:
        raise DirtyWorkingTree(changed)


def uncommitted(repo: Path) -> list[str]:
    """Tracked files with staged or unstaged changes (untracked files do not count)."""
    status = run_git(
        repo, "status", "--porcelain=v2", "--untracked-files=no", "--no-renames", "-z",
        env=READ_ONLY,
    )  # fmt: skip
    return [e.split(" ", 10 if e[0] == "u" else 8)[-1] for e in status.split("\0") if e]
