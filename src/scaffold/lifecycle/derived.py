"""`uv.lock` in a branch merge: made again from the merged `pyproject.toml`, never merged as text.

The lock is derived: git's line merge of two locks either conflicts where their entries sort next
to each other (two branches each added a dependency) or, when it is clean, may hold a resolution
no `uv lock` would make. So the merged tree's `uv.lock` is what `uv lock` makes in that tree,
seeded with git's merge of the two locks when it was clean (both branches' pins are kept where
they still fit) or else with this branch's lock, as uv's own advice for a lock conflict goes.

It runs while planning, in a copy of the merged tree: when uv cannot make the lock (no uv, no
network, the two branches' requirements disagree) the merge is refused and nothing is touched.
When `pyproject.toml` itself conflicts there is nothing to lock yet: `uv.lock` is left unmerged,
holding this branch's lock without markers, to make again once `pyproject.toml` is resolved.
"""

from __future__ import annotations

import dataclasses
import subprocess
import tarfile
import tempfile
from pathlib import Path

from scaffold.errors import GitError
from scaffold.lifecycle.merge import Merge
from scaffold.lifecycle.refusals import LockNotMade
from scaffold.lifecycle.trees import Trees
from scaffold.lock import LOCK_FILE, LOCK_SOURCE, lock_dependencies
from scaffold.project import Project

LOCK_AFTER_PYPROJECT = (
    "made from pyproject.toml, which conflicts: it holds this branch's lock; "
    "once pyproject.toml is resolved, run `uv lock` and `git add` it"
)
"""The conflict kind of `uv.lock` while `pyproject.toml` is unresolved."""


@dataclasses.dataclass(frozen=True)
class Sides:
    """The trees that were merged: the merge base, this branch and the other."""

    base: str
    ours: str
    theirs: str
    head: str
    """This branch as it is (``ours`` is it brought to the merged generation)."""


def with_lock_made(project: Project, trees: Trees, sides: Sides, merged: Merge) -> Merge:
    """``merged`` with its `uv.lock` made from its `pyproject.toml` (see the module's text)."""
    lock, pyproject = project.path(LOCK_FILE), project.path(LOCK_SOURCE)
    in_merge, in_ours = _blob(trees, merged.tree, lock), _blob(trees, sides.ours, lock)
    if lock not in merged.conflicts and in_merge is None:
        return merged  # no side tracks a lock
    sides_locks = [_blob(trees, tree, lock) for tree in (sides.ours, sides.theirs)]
    if _blob(trees, sides.base, lock) is not None and None in sides_locks:
        return merged  # a side stopped tracking it: git's deletion, or its conflict, stands
    if pyproject in merged.conflicts:
        return _left_unmerged(trees, sides, merged, lock)
    same_pyproject = _blob(trees, merged.tree, pyproject) == _blob(trees, sides.head, pyproject)
    if (
        lock not in merged.conflicts
        and same_pyproject
        and in_merge == _blob(trees, sides.head, lock)
    ):
        return merged  # this branch's lock and pyproject.toml as they are, both unchanged
    seeds = [] if lock in merged.conflicts else [in_merge]
    seeds += [in_ours or _blob(trees, sides.theirs, lock)]
    made = _lock(project, trees, merged.tree, [s for s in dict.fromkeys(seeds) if s])
    return _resolved(trees, merged, lock, made)


def _lock(project: Project, trees: Trees, tree: str, seeds: list[tuple[str, str]]) -> str:
    """The blob of the lock `uv lock` makes in ``tree``, from the first seed it accepts."""
    detail = "no lock to start from"
    for mode, oid in seeds:
        seeded = trees.with_file(tree, project.path(LOCK_FILE), mode, oid)
        with tempfile.TemporaryDirectory(prefix="scaffold-lock-") as scratch:
            _write_tree(trees, seeded, Path(scratch))
            folder = Path(scratch, project.prefix)
            outcome = lock_dependencies(folder)
            if outcome.written:
                return trees.git("hash-object", "-w", "--no-filters", str(folder / LOCK_FILE))
            detail = outcome.detail
    raise LockNotMade(detail)


def _write_tree(trees: Trees, tree: str, folder: Path) -> None:
    """Every file of ``tree`` below ``folder``: the whole repository, for a path dependency."""
    with subprocess.Popen(
        ["git", "archive", "--format=tar", tree],
        cwd=trees.repo,
        env=trees.full_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as archive:
        assert archive.stdout is not None and archive.stderr is not None
        problem = ""
        try:
            with tarfile.open(fileobj=archive.stdout, mode="r|") as files:
                files.extractall(folder, filter="tar")  # the repository's links, as git has them
        except tarfile.TarError as error:
            problem = str(error)
            archive.stdout.close()  # git stops writing, so its stderr ends
        said = archive.stderr.read().decode(errors="replace").strip()
    if archive.returncode != 0 or problem:
        raise GitError("archive", said or problem)


def _resolved(trees: Trees, merged: Merge, lock: str, made: str) -> Merge:
    mode, _ = _blob(trees, merged.tree, lock) or ("100644", "")
    return dataclasses.replace(
        merged,
        tree=trees.with_file(merged.tree, lock, mode, made),
        conflicts={p: k for p, k in merged.conflicts.items() if p != lock},
        stages=_stages_without(merged, lock),
    )


def _left_unmerged(trees: Trees, sides: Sides, merged: Merge, lock: str) -> Merge:
    """`uv.lock` unmerged, each side's lock a stage, this branch's (or the other's) in the tree."""
    found = [_blob(trees, tree, lock) for tree in (sides.base, sides.ours, sides.theirs)]
    stages = [f"{f[0]} {f[1]} {n}\t{lock}" for n, f in enumerate(found, start=1) if f is not None]
    shown = found[1] or found[2]
    assert shown is not None, "a lock in the merge comes from one of its sides"
    return dataclasses.replace(
        merged,
        tree=trees.with_file(merged.tree, lock, *shown),
        conflicts=dict(sorted({**merged.conflicts, lock: LOCK_AFTER_PYPROJECT}.items())),
        stages=_stages_without(merged, lock) + stages,
    )


def _stages_without(merged: Merge, path: str) -> list[str]:
    """The merge's index stages (``mode oid stage\tpath``) of every path but ``path``."""
    return [line for line in merged.stages if line.split("\t", 1)[1] != path]


def _blob(trees: Trees, tree: str, path: str) -> tuple[str, str] | None:
    """The file at ``path`` in ``tree`` as (mode, oid), or None when there is none."""
    listed = trees.git("ls-tree", "-z", tree, "--", path).rstrip("\0")
    if not listed:
        return None
    mode, kind, oid = listed.split("\t", 1)[0].split()
    return (mode, oid) if kind == "blob" else None
