"""Plan an update: everything computed in a scratch object store, every refusal raised, and
nothing written into the project. A dry run shows the plan; a real run applies it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scaffold.catalog import CATALOG
from scaffold.lifecycle.imports import importers, removed_modules
from scaffold.lifecycle.merge import Merge, prepare_merge
from scaffold.lifecycle.recorded import Recorded, load_recorded, require_valid_answers
from scaffold.lifecycle.refusals import CapabilityDropped, StillImported
from scaffold.lifecycle.state import require_ready
from scaffold.lifecycle.workspace import refuse_files_in_the_way
from scaffold.pristine import Generations, generation_message, read_answers
from scaffold.project import Project
from scaffold.render import render_tree


@dataclass(frozen=True)
class Change:
    """What a command asks for: the answers to render, at which template version, and why."""

    data: dict[str, object]
    message: str
    vcs_ref: str | None = None
    removing: frozenset[str] = frozenset()
    """Capabilities this change removes on purpose."""
    force: bool = False
    """Remove even what the project's own code still imports."""


@dataclass(frozen=True)
class Generated:
    commit: str
    answers: dict[str, object]

    @property
    def version(self) -> str | None:
        found = self.answers.get("_commit")
        return None if found is None else str(found)


@dataclass(frozen=True)
class Plan:
    project: Project
    env: dict[str, str]
    """The scratch object store holding every object below."""
    recorded: Recorded
    generation: Generated
    merge: Merge | None
    """None when the project is already exactly there."""
    notes: list[str] = field(default_factory=list)
    kept: frozenset[str] = frozenset()
    """The generations that already have their ref in the repository."""
    identity: dict[str, str] = field(default_factory=dict)
    """Who commits for the user (their git identity, or scaffold's when they have none)."""

    @property
    def keep(self) -> list[str]:
        """The generations whose refs keep them in the repository."""
        return sorted({*self.recorded.generations, self.generation.commit})


def make_plan(project: Project, change: Change, env: Mapping[str, str]) -> Plan:
    ready = require_ready(project.repo)
    store = Generations(project.repo, env)
    recorded = load_recorded(project, store)
    require_valid_answers(project, recorded)
    _refuse_dropped_capabilities(project, recorded, change)
    generated = render_generation(project, store, change.data, change.vcs_ref, recorded.generations)
    notes = _notes(recorded)
    if _already_there(project, generated):
        return Plan(project, dict(env), recorded, generated, None, notes)
    merge = prepare_merge(project, store.trees, recorded.base, generated.commit, change.message,
                          ready.head_tree)  # fmt: skip
    refuse_files_in_the_way(project, store.trees, merge.head_tree, merge.tree)
    if change.removing and not change.force:
        _refuse_still_imported(project, store, recorded.base, generated.commit, merge.tree)
    identity = store.trees.identity()
    return Plan(project, dict(env), recorded, generated, merge, notes, ready.kept, identity)


def render_generation(
    project: Project,
    store: Generations,
    data: Mapping[str, object],
    vcs_ref: str | None,
    parents: Sequence[str],
) -> Generated:
    with tempfile.TemporaryDirectory(prefix="scaffold-render-") as scratch:
        folder = Path(scratch) / "generation"
        render_tree(project.source, folder, data, vcs_ref, project.answers_file)
        answers = read_answers(folder / project.answers_file)
        commit = store.create(folder, parents, generation_message(answers))
    if len(parents) == 1 and store.trees.tree_of(commit) == store.trees.tree_of(parents[0]):
        commit = parents[0]  # nothing new: the generation it is already on
    return Generated(commit, answers)


def _already_there(project: Project, generated: Generated) -> bool:
    return project.generations == [generated.commit]


def _notes(recorded: Recorded) -> list[str]:
    notes = []
    if recorded.fetched_from:
        notes.append(f"fetched the recorded generation from {recorded.fetched_from}")
    if recorded.merged_branches:
        shown = ", ".join(g[:12] for g in recorded.generations)
        notes.append(f"this branch merged {len(recorded.generations)} generations ({shown}): "
                     "they become one, rendered from the merged answers")  # fmt: skip
    return notes


def _refuse_dropped_capabilities(project: Project, recorded: Recorded, change: Change) -> None:
    """After git merged branches, a capability one of them added is never dropped quietly."""
    if not recorded.merged_branches:
        return
    for capability in CATALOG:
        name = capability.name
        was_added = recorded.answers.get(name) is True
        if was_added and change.data.get(name) is not True and name not in change.removing:
            raise CapabilityDropped(name, project.answers_file)


def _refuse_still_imported(
    project: Project, store: Generations, base: str, generation: str, merged: str
) -> None:
    trees = store.trees
    old, new = trees.tree_of(base), trees.tree_of(generation)
    modules = removed_modules(trees, old, new)
    service = trees.at(merged, project.prefix)
    found = importers(trees, service, new, modules) if modules and service else {}
    if found:
        used = sorted({m for hits in found.values() for m in hits})
        raise StillImported(used, [project.path(p) for p in sorted(found)])
