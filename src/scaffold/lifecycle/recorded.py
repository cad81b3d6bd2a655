"""What the current branch recorded: its generation(s), their merged tree and merged answers.

One record is the usual case. Two or more mean git merged branches that each made a generation;
their merge (a merge of the generation commits, from the generation they share) is exactly
what git's merge of the branches took from the template, so it is the base of the next merge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scaffold.answers_file import answer_problems
from scaffold.catalog import CATALOG
from scaffold.git import git_status
from scaffold.lifecycle.refusals import (
    BadProjectAnswers,
    GenerationUnavailable,
    NoGeneration,
)
from scaffold.pristine import Generations
from scaffold.project import Project

_MISSING = object()


@dataclass(frozen=True)
class Recorded:
    generations: list[str]
    """The recorded generations none of the others descends from."""
    base: str
    """A commit whose tree is their merge: the base of the next three-way merge."""
    answers: dict[str, object]
    """Their answers merged key by key; a key the branches set differently is left out."""
    fetched_from: str | None = None
    undetermined: set[str] = field(default_factory=set)

    @property
    def merged_branches(self) -> bool:
        return len(self.generations) > 1


def load_recorded(project: Project, store: Generations) -> Recorded:
    if not project.records:
        raise NoGeneration(str(project.root))
    fetched_from = None
    missing = store.missing(project.generations)
    if missing:
        fetched_from = store.fetch(missing)
        if fetched_from is None:
            remotes = git_status(project.repo, "remote").out.split()
            raise GenerationUnavailable(store.missing(missing), remotes)
    generations = store.independent(project.generations)
    sides = [store.answers(g, project.answers_file) or {} for g in generations]
    shared = _shared_answers(store, generations, project.answers_file)
    answers, undetermined = merge_answers(sides, shared)
    return Recorded(generations, store.merged(generations), answers, fetched_from, undetermined)


def _shared_answers(
    store: Generations, generations: Sequence[str], answers_file: str
) -> dict[str, object] | None:
    if len(generations) < 2:
        return None
    found = git_status(store.repo, "merge-base", "--octopus", *generations, env=store.env)
    return store.answers(found.out.split()[0], answers_file) if found.code == 0 else None


def merge_answers(
    sides: Sequence[Mapping[str, object]], shared: Mapping[str, object] | None
) -> tuple[dict[str, object], set[str]]:
    """Answers merged as git merges lines: a key changed on one side takes that side's value."""
    merged: dict[str, object] = {}
    undetermined: set[str] = set()
    for key in sorted({k for side in sides for k in side}):
        values = [side.get(key, _MISSING) for side in sides]
        before = _MISSING if shared is None else shared.get(key, _MISSING)
        changed = _distinct([v for v in values if v != before]) if shared is not None else []
        if len(_distinct(values)) == 1:
            value = values[0]
        elif len(changed) == 1:
            value = changed[0]
        else:
            undetermined.add(key)
            continue
        if value is not _MISSING:
            merged[key] = value
    return merged, undetermined


def _distinct(values: Sequence[object]) -> list[object]:
    found: list[object] = []
    for value in values:
        if all(value != seen for seen in found):
            found.append(value)
    return found


def require_valid_answers(project: Project, recorded: Recorded) -> None:
    """The answers file checked whole: catalog names and types, the generation's questions."""
    known = {k: v for k, v in recorded.answers.items() if not k.startswith("_")}
    problems = answer_problems(project.answers, CATALOG, known)
    for capability in CATALOG:
        if project.answers.get(capability.name) is True and not capability.available:
            problems.append(f"{capability.name} is not available in this version of scaffold")
    if not project.answers.get("_src_path"):
        was = recorded.answers.get("_src_path")
        hint = f" (the last generation used `_src_path: {was}`)" if was else ""
        problems.append(f"_src_path is missing, so the template is unknown{hint}; put it back")
    if problems:
        raise BadProjectAnswers(project.answers_file, problems)
