"""`scaffold merge BRANCH`: merge a branch that made its own generation, as if the template had
been rendered once for both.

git's merge of two branches that each added a capability conflicts wherever both wired one in
(settings, the app factory, compose…): the template's lines collide, not the users'. Here each
side — this branch, the other, and their merge base — is first brought to ONE new generation,
rendered from the answers of both (merged key by key), and only then are the three merged: the
template's part is then the same on every side, so git sees nothing but the users' own changes.
The result is what `scaffold add` of both capabilities gives, with both branches' edits; its
`uv.lock` is made from the merged `pyproject.toml`, not merged as text (lifecycle/derived.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from scaffold.answers_file import answer_problems, read_yaml_mapping
from scaffold.catalog import CATALOG
from scaffold.errors import ScaffoldError
from scaffold.git import git_status
from scaffold.lifecycle.derived import Sides, with_lock_made
from scaffold.lifecycle.merge import Merge, prepare_merge, three_way
from scaffold.lifecycle.plan import Generated, render_generation
from scaffold.lifecycle.recorded import merge_answers
from scaffold.lifecycle.records import RECORDS
from scaffold.lifecycle.refusals import BadProjectAnswers, GenerationUnavailable
from scaffold.lifecycle.state import require_ready
from scaffold.lifecycle.workspace import refuse_files_in_the_way
from scaffold.pristine import Generations
from scaffold.project import Project


@dataclass(frozen=True)
class Side:
    commit: str
    tree: str
    generations: list[str]
    answers: dict[str, object]


@dataclass(frozen=True)
class BranchPlan:
    project: Project
    env: dict[str, str]
    other: str
    """The branch as the user named it (git's merge message says it)."""
    other_commit: str
    kind: str
    """"up-to-date", "fast-forward" or "merge"."""
    generation: Generated | None = None
    merge: Merge | None = None
    keep: list[str] = field(default_factory=list)
    kept: frozenset[str] = frozenset()


def plan_branch_merge(project: Project, other: str, env: Mapping[str, str]) -> BranchPlan:
    repo = project.repo
    ready = require_ready(repo)
    found = git_status(repo, "rev-parse", "--verify", "--quiet", f"{other}^{{commit}}")
    if found.code != 0:
        raise ScaffoldError(f"{other} is not a branch or commit of this repository")
    theirs, head = found.out, git_status(repo, "rev-parse", "HEAD").out
    if _is_ancestor(project, theirs, head):
        return BranchPlan(project, dict(env), other, theirs, "up-to-date")
    if _is_ancestor(project, head, theirs):
        return BranchPlan(project, dict(env), other, theirs, "fast-forward")
    base = git_status(repo, "merge-base", head, theirs)
    if base.code != 0:
        raise ScaffoldError(f"{other} shares no history with this branch; nothing to merge from")
    store = Generations(repo, env)
    sides = [_side(project, store, commit) for commit in (base.out, head, theirs)]
    base_side, ours_side, theirs_side = sides
    answers = _merged_answers(project, other, ours_side, theirs_side, base_side)
    merged_project = dataclasses.replace(project, answers=answers)
    source = merged_project.source
    vcs_ref = str(answers["_commit"]) if source.is_git and answers.get("_commit") else None
    parents = store.independent(sorted({*ours_side.generations, *theirs_side.generations}))
    data = {k: v for k, v in answers.items() if not k.startswith("_")}
    generated = render_generation(merged_project, store, data, vcs_ref, parents)
    message = f"scaffold merge {other}"
    updated = [_brought_to(project, store, side, generated.commit, message) for side in sides]
    final = three_way(store.trees, updated[0].tree, updated[1].tree, updated[2].tree, message)
    final = _with_side_conflicts(final, updated[1:])
    base_tree, ours_tree, theirs_tree = (m.tree for m in updated)
    sides_merged = Sides(base_tree, ours_tree, theirs_tree, head=ours_side.tree)
    final = with_lock_made(project, store.trees, sides_merged, final)
    refuse_files_in_the_way(project, store.trees, ours_side.tree, final.tree)
    keep = sorted({*ours_side.generations, *theirs_side.generations, generated.commit})
    return BranchPlan(
        project, dict(env), other, theirs, "merge", generated, final, keep, ready.kept
    )


def _brought_to(
    project: Project, store: Generations, side: Side, generation: str, message: str
) -> Merge:
    """The side with its template part replaced by ``generation``: its own edits kept."""
    base = store.merged(store.independent(side.generations))
    return prepare_merge(project, store.trees, base, generation, message, side.tree)


def _is_ancestor(project: Project, older: str, newer: str) -> bool:
    return git_status(project.repo, "merge-base", "--is-ancestor", older, newer).code == 0


def _side(project: Project, store: Generations, commit: str) -> Side:
    trees = store.trees
    tree = trees.git("rev-parse", f"{commit}^{{tree}}")
    records = trees.at(tree, project.path(RECORDS))
    generations = sorted(e.name for e in trees.entries(records)) if records else []
    if not generations:
        raise ScaffoldError(f"{commit[:12]} records no scaffold generation for {project.root}")
    missing = store.missing(generations)
    if missing and (store.fetch(missing) is None):
        remotes = git_status(project.repo, "remote").out.split()
        raise GenerationUnavailable(store.missing(missing), remotes)
    shown = git_status(project.repo, "show", f"{commit}:{project.path(project.answers_file)}")
    answers = read_yaml_mapping(shown.out, f"{commit[:12]}:{project.answers_file}")
    return Side(commit, tree, generations, {str(k): v for k, v in answers.items()})


def _merged_answers(
    project: Project, other: str, ours: Side, theirs: Side, base: Side
) -> dict[str, object]:
    answers, undetermined = merge_answers([ours.answers, theirs.answers], base.answers)
    if undetermined:
        keys = ", ".join(sorted(undetermined))
        raise ScaffoldError(
            f"this branch and {other} changed {keys} in {project.answers_file} differently; "
            "make them agree on one branch first (e.g. `scaffold update --to TAG`)"
        )
    problems = answer_problems(answers, CATALOG, {k: v for k, v in ours.answers.items()})
    if problems:
        raise BadProjectAnswers(project.answers_file, problems)
    return answers


def _with_side_conflicts(final: Merge, sides: list[Merge]) -> Merge:
    """Conflicts between a side's own edits and the new generation stay conflicts."""
    conflicts, stages = dict(final.conflicts), list(final.stages)
    for side in sides:
        for path, kind in side.conflicts.items():
            if path not in conflicts:
                conflicts[path] = kind
                stages += [line for line in side.stages if line.split("\t", 1)[1] == path]
    return dataclasses.replace(final, conflicts=dict(sorted(conflicts.items())), stages=stages)
