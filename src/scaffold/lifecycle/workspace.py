"""Files on disk that git does not track, where the merge would write: the update refuses.

git's own merge overwrites an ignored file without a word (a local `compose.override.yml` with
a secret in it, say) and stops halfway at an untracked one; scaffold names them all up front.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from scaffold.git import READ_ONLY, git_status
from scaffold.lifecycle.refusals import InTheWay
from scaffold.lifecycle.trees import Trees
from scaffold.project import Project


def refuse_files_in_the_way(project: Project, trees: Trees, head_tree: str, merged: str) -> None:
    scope = ["--", project.prefix] if project.prefix else []
    added = trees.git("diff-tree", "-r", "-z", "--name-only", "--no-renames", "--diff-filter=A",
                      head_tree, merged, *scope)  # fmt: skip
    found = {b for path in added.split("\0") if path and (b := _blocker(project.repo, path))}
    blocked = sorted(found - _tracked(project, found))
    if blocked:
        ignored = _ignored(project, blocked)
        raise InTheWay([p for p in blocked if p not in ignored], sorted(ignored))


def _blocker(repo: Path, path: str) -> str | None:
    """What on disk stands where the merge writes ``path``: the path itself, or a folder of
    it that is a file or a symlink."""
    parts = PurePosixPath(path).parts
    for depth in range(1, len(parts) + 1):
        name = "/".join(parts[:depth])
        on_disk = repo / name
        if not os.path.lexists(on_disk):
            return None
        if depth == len(parts) or on_disk.is_symlink() or not on_disk.is_dir():
            return name
    return None


def _tracked(project: Project, paths: set[str]) -> set[str]:
    """A tracked file that the merge replaces by a folder is git's to replace, not in the way."""
    if not paths:
        return set()
    listed = git_status(project.repo, "ls-files", "-z", "--", *sorted(paths), env=READ_ONLY).out
    return {p for p in listed.split("\0") if p}


def _ignored(project: Project, paths: list[str]) -> set[str]:
    found = git_status(project.repo, "check-ignore", "-z", "--stdin", env=READ_ONLY,
                       stdin="".join(f"{p}\0" for p in paths))  # fmt: skip
    return {p for p in found.out.split("\0") if p}
