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
from scaffold.git import git_status, identity_env, last_line
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


def prepare_merge(
    project: Project,
    trees: Trees,
    base: str,
    generation: str,
    message: str,
) -> Merge:
    head_tree = trees.git("rev-parse", "HEAD^{tree}")
    service = trees.at(head_tree, project.prefix)
    scaffold_folder = trees.at(service, FOLDER) if service else None
    new_folder = folder_tree(trees, scaffold_folder, [Record(generation, project.answers_file)])
    base_service = trees.replace(f"{base}^{{tree}}", FOLDER, scaffold_folder)
    theirs_service = trees.replace(f"{generation}^{{tree}}", FOLDER, new_folder)
    base_tree = trees.replace(head_tree, project.prefix, base_service)
    theirs_tree = trees.replace(head_tree, project.prefix, theirs_service)

    base_commit = trees.commit(base_tree, (), "scaffold: merge base", GENERATOR)
    ours = trees.commit(head_tree, (base_commit,), "scaffold: your branch", GENERATOR)
    change = trees.commit(theirs_tree, (base_commit,), message, identity_env(project.repo))
    merged = git_status(project.repo, "merge-tree", "--write-tree", "-z", ours, change,
                        env=trees.env)  # fmt: skip
    if merged.code not in (0, 1):
        raise GitError("merge-tree", last_line(merged))
    tree, conflicts = _parse_merge_tree(merged.out)
    return Merge(head_tree, change, tree, conflicts)


def _parse_merge_tree(output: str) -> tuple[str, dict[str, str]]:
    """`git merge-tree --write-tree -z` prints the tree, then "mode oid stage<TAB>path" for
    each conflicting stage, each ended by NUL, then an empty entry and the messages."""
    entries = output.split("\0")
    stages: dict[str, set[int]] = {}
    for entry in entries[1:]:
        if not entry:
            break
        meta, path = entry.split("\t", 1)
        stages.setdefault(path, set()).add(int(meta.split()[2]))
    kinds = {p: CONFLICT_KINDS.get(frozenset(s), "in conflict") for p, s in sorted(stages.items())}
    return entries[0], kinds
