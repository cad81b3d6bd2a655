"""What the projection by distinct inputs (projection_distinct.py) needs of each combination,
computed apart from the replay so that the costly part runs on every core.

A combination's facts are pure functions of its rendered tree: its tier 2 parts, each keyed
tier 1 check's key (static_tier.check_key), and the state of every path a stored manifest of
its parts lists (``path_state`` of a path read, ``path_kind`` of a path probed), each computed
once however many stored runs or replayed runs list it. Rendering dominates (about half a
CPU-second a combination, more on a busy machine), so worker processes render and compute the
facts, and the replay, which depends on the order of the combinations, takes them in that order.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from scaffold.selection import Selection
from tests.matrix.content import digest, path_kind, path_state
from tests.matrix.reuse import view_state
from tests.matrix.runtime_checks import START
from tests.matrix.runtime_groups import groups
from tests.matrix.static_tier import CHECKS, check_key

WORKERS_VARIABLE = "SCAFFOLD_MATRIX_DISTINCT_WORKERS"
"""How many processes render (default: the machine's cores, at most 2; 1: in this process)."""


@dataclass(frozen=True)
class Paths:
    """Per tier 2 part, the paths its stored manifests read and probe (all of them)."""

    read: Mapping[str, Collection[str]]
    probed: Mapping[str, Collection[str]]
    viewed: Mapping[str, Collection[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """One rendered combination as the replay sees it."""

    label: str
    parts: list[str]
    """Its tier 2 parts: its test groups, then migrating and booting."""
    keys: dict[str, str]
    """Each keyed check's key; empty when tier 1 is not counted."""
    states: dict[str, tuple[list[object], str]]
    """Per path a stored manifest of its parts reads: its state and the state's digest."""
    kinds: dict[str, str]
    """Per path a stored manifest of its parts probes: what a stat sees there."""
    views: dict[str, list[object]] = field(default_factory=dict)
    """Per folder view a stored manifest of its parts records: what it sees (``view_state``)."""


def parts_of(project: Path) -> list[str]:
    """The tier 2 parts a combination has: its test groups, then migrating and booting."""
    return [group.name for group in groups(project)] + [START]


def facts_of(project: Path, label: str, paths: Paths, python: Path | None) -> Facts:
    parts = parts_of(project)
    keys = {}
    if python is not None:
        keys = {c.name: check_key(c, project, python) for c in CHECKS if c.keyed}
    read = sorted({path for part in parts for path in paths.read.get(part, ())})
    probed = sorted({path for part in parts for path in paths.probed.get(part, ())})
    states = {}
    for path in read:
        state = path_state(project, path)
        states[path] = (state, digest(state))
    kinds = {path: path_kind(project, path) for path in probed}
    viewed = sorted({view for part in parts for view in paths.viewed.get(part, ())})
    views = {view: view_state(project, view) for view in viewed}
    return Facts(label, parts, keys, states, kinds, views)


def workers() -> int:
    return int(os.environ.get(WORKERS_VARIABLE) or min(2, os.cpu_count() or 1))


def facts_in_order(
    selections: Sequence[Selection],
    paths: Paths,
    python: Path | None,
    template: str | None,
    processes: int,
) -> Iterator[Facts]:
    """Render each selection and yield its facts, in the selections' order."""
    with tempfile.TemporaryDirectory(prefix="matrix-distinct-") as folder:
        job = Job(Path(folder), list(selections), paths, python, template)
        if processes <= 1:
            _start(job)
            yield from map(_facts, range(len(selections)))
            return
        # spawn, not fork: the caller may hold threads (pytest's); each worker imports scaffold
        # once and renders into a folder of its own.
        context = multiprocessing.get_context("spawn")
        with context.Pool(processes, initializer=_start, initargs=(job,)) as pool:
            yield from pool.imap(_facts, range(len(selections)))


@dataclass(frozen=True)
class Job:
    folder: Path
    selections: list[Selection]
    paths: Paths
    python: Path | None
    template: str | None


_jobs: list[Job] = []
"""This process's job (``_start``), its folder one of its own."""


def _start(job: Job) -> None:
    _jobs[:] = [replace(job, folder=Path(tempfile.mkdtemp(dir=job.folder)))]


def _facts(index: int) -> Facts:
    from tests.matrix.workspace import render  # imports scaffold's rendering: only when needed

    job = _jobs[0]
    selection = job.selections[index]
    project = render(selection, job.folder, job.template)
    return facts_of(project, selection.label(), job.paths, job.python)
