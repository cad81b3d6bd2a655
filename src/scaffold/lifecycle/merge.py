"""The three-way merge of an update, with the base scaffold chose rather than the one git finds.

base   = the branch's tree with the service folder holding the recorded generation(s)
ours   = the branch (HEAD)
theirs = the branch's tree with the service folder holding the new generation

Outside the service folder the three are equal, so nothing there changes (a monorepo's other
services included). The change is a commit ``theirs`` whose parent is ``base``: applying it to
HEAD is a cherry-pick, whose merge base is exactly that parent, whatever HEAD's history is
(squash-merged, rebased, amended, or a clone that never saw the old generation's commit).
`git merge-tree` computes the same merge here, without touching the working tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scaffold.errors import GitError
from scaffold.git import git_status, last_line
from scaffold.lifecycle.records import FOLDER, Record, folder_tree
from scaffold.lifecycle.trees import Trees
from scaffold.pristine import GENERATOR
from scaffold.project import Project

CONFLICT_KINDS = {
    frozenset({1, 2, 3}): "changed by you and by the template",
    frozenset({1, 2}): "deleted by the template, changed by you",
    frozenset({1, 3}): "deleted by you, changed by the template",
    frozenset({2, 3}): "added by you and by the template",
}


@dataclass(frozen=True)
class Merge:
    head_tree: str
    change: str
    """The commit to cherry-pick: ``theirs``, child of ``base``."""
    tree: str
    """The merge's result; files in conflict hold git's markers."""
    conflicts: dict[str, str] = field(default_factory=dict)
    """Path in the repository -> what conflicts (one of CONFLICT_KINDS' values)."""
    stages: list[str] = field(default_factory=list)
    """The conflicts as `git update-index --index-info` lines ("mode oid stage<TAB>path")."""


def prepare_merge(
    project: Project,
    trees: Trees,
    base: str,
    generation: str,
    message: str,
    ours_tree: str | None = None,
) -> Merge:
    """The merge into ``ours_tree`` (default: HEAD's) of the change from ``base`` (the
    generation(s) it records) to ``generation``."""
    head_tree = ours_tree or trees.git("rev-parse", "HEAD^{tree}")
    service = trees.at(head_tree, project.prefix)
    scaffold_folder = trees.at(service, FOLDER) if service else None
    new_folder = folder_tree(trees, scaffold_folder, [Record(generation, project.answers_file)])
    base_service = trees.replace(trees.tree_of(base), FOLDER, scaffold_folder)
    theirs_service = trees.replace(trees.tree_of(generation), FOLDER, new_folder)
    base_tree = trees.replace(head_tree, project.prefix, base_service)
    theirs_tree = trees.replace(head_tree, project.prefix, theirs_service)
    return three_way(trees, base_tree, head_tree, theirs_tree, message)


def three_way(trees: Trees, base: str, ours: str, theirs: str, message: str) -> Merge:
    """git's merge of the trees ``ours`` and ``theirs`` from ``base``; ``Merge.change`` is
    ``theirs`` as a commit whose parent is ``base``."""
    base_commit = trees.commit(base, (), "scaffold: merge base", GENERATOR)
    ours_commit = trees.commit(ours, (base_commit,), "scaffold: your side", GENERATOR)
    change = trees.commit(theirs, (base_commit,), message, trees.identity())
    merged = git_status(trees.repo, "merge-tree", "--write-tree", "-z", ours_commit, change,
                        env=trees.env)  # fmt: skip
    if merged.code not in (0, 1):
        raise GitError("merge-tree", last_line(merged))
    return _merge_result(ours, change, merged.out)


def _merge_result(ours_tree: str, change: str, output: str) -> Merge:
    """Read `git merge-tree --write-tree -z`: the tree, then "mode oid stage<TAB>path" for each
    conflicting stage, each ended by NUL, then an empty entry and the messages."""
    entries = output.split("\0")
    stages: dict[str, set[int]] = {}
    lines = []
    for entry in entries[1:]:
        if not entry:
            break
        meta, path = entry.split("\t", 1)
        stages.setdefault(path, set()).add(int(meta.split()[2]))
        lines.append(entry)
    kinds = {p: CONFLICT_KINDS.get(frozenset(s), "in conflict") for p, s in sorted(stages.items())}
    return Merge(ours_tree, change, entries[0], kinds, lines)
