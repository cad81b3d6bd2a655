"""Whether the repository may be changed now: a commit to build on, no git operation half
done, the user's branch (not a generation) checked out, no uncommitted change to tracked files.

Only reads: `git status` runs without optional locks, so not even .git/index is refreshed.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Ready:
    head: str
    head_tree: str
    kept: frozenset[str]
    """The generations that have their ref in this repository."""


def require_ready(repo: Path) -> Ready:
    paths = (arg for marker in _IN_PROGRESS for arg in ("--git-path", marker[0]))
    found = git_status(repo, "rev-parse", "HEAD", "HEAD^{tree}", *paths)
    if found.code != 0:
        raise NoCommitYet()
    head, head_tree, *markers = found.out.splitlines()
    for path, (_, what, finish, undo) in zip(markers, _IN_PROGRESS, strict=True):
        if (repo / path).exists():
            raise OperationInProgress(what, finish, undo)
    kept = frozenset(run_git(repo, "for-each-ref", "--format=%(objectname)", REF_PREFIX).split())
    if head in kept:
        raise GenerationCheckedOut(head)
    changed = uncommitted(repo)
    if changed:
        raise DirtyWorkingTree(changed)
    return Ready(head, head_tree, kept)


def uncommitted(repo: Path) -> list[str]:
    """Tracked files with staged or unstaged changes (untracked files do not count)."""
    status = run_git(
        repo, "status", "--porcelain=v2", "--untracked-files=no", "--no-renames", "-z",
        env=READ_ONLY,
    )  # fmt: skip
    return [e.split(" ", 10 if e[0] == "u" else 8)[-1] for e in status.split("\0") if e]
