"""Files on disk that git does not track, where the merge would write: the update refuses.

git's own merge overwrites an ignored file without a word (a local `compose.override.yml` with
a secret in it, say) and stops halfway at an untracked one; scaffold names them all up front.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath

from scaffold.git import READ_ONLY, git_status
from scaffold.lifecycle.refusals import InTheWay
from scaffold.lifecycle.trees import Trees
from scaffold.project import Project


def refuse_files_in_the_way(project: Project, trees: Trees, head_tree: str, merged: str) -> None:
    before = _service_files(project, trees, head_tree)
    after = _service_files(project, trees, merged)
    folders = {str(parent) for path in before for parent in PurePosixPath(path).parents}
    blocked: list[str] = []
    for path in sorted(after - before):
        for candidate in [*reversed(PurePosixPath(path).parents), PurePosixPath(path)]:
            name = str(candidate)
            if name == "." or name in folders:
                continue
            on_disk = project.repo / name
            if os.path.lexists(on_disk) and (name == path or not _is_folder(on_disk)):
                blocked.append(name)
                break
    if blocked:
        ignored = _ignored(project, sorted(set(blocked)))
        raise InTheWay([p for p in sorted(set(blocked)) if p not in ignored], sorted(ignored))


def _service_files(project: Project, trees: Trees, tree: str) -> set[str]:
    service = trees.at(tree, project.prefix)
    return {project.path(path) for path in trees.files(service)} if service else set()


def _is_folder(path: os.PathLike[str]) -> bool:
    return os.path.isdir(path) and not os.path.islink(path)


def _ignored(project: Project, paths: list[str]) -> set[str]:
    found = git_status(project.repo, "check-ignore", "-z", "--stdin", env=READ_ONLY,
                       stdin="".join(f"{p}\0" for p in paths))  # fmt: skip
    return {p for p in found.out.split("\0") if p}
