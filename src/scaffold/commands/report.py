"""The words for an update's result: what happened, and what to do next when it is not done."""

from __future__ import annotations

from dataclasses import dataclass, field

from scaffold.commands.update import UpdateResult
from scaffold.lifecycle.derived import LOCK_AFTER_PYPROJECT
from scaffold.lifecycle.merge import CONFLICT_KINDS

_WITHOUT_MARKERS = {
    CONFLICT_KINDS[frozenset({1, 2})],
    CONFLICT_KINDS[frozenset({1, 3})],
}
_NO_MARKERS = {*_WITHOUT_MARKERS, LOCK_AFTER_PYPROJECT}


def _undo(result: UpdateResult) -> str:
    command = "merge" if result.action.startswith("merge ") else "cherry-pick"
    return f"Or undo everything with `git {command} --abort`."


@dataclass(frozen=True)
class Report:
    out: list[str] = field(default_factory=list)
    """Lines for stdout; one ending in a newline is printed as it is (a diff)."""
    err: list[str] = field(default_factory=list)


def describe(result: UpdateResult) -> Report:
    notes = [f"note: {note}" for note in result.notes]
    if result.status == "up-to-date":
        version = result.to_version or "unversioned"
        return Report([*notes, f"Already up to date (template {version})."])
    if result.status == "dry-run":
        lines = [
            result.diff,
            f"{len(result.changed)} file(s) would change; nothing was touched (--dry-run).",
            *(f"  would conflict: {p} ({result.conflict_kinds.get(p, 'in conflict')})"
              for p in result.conflicts),
        ]  # fmt: skip
        return Report([*notes, *lines])
    if result.status == "merged":
        changed = len(result.changed)
        return Report([*notes, f"{_done(result)}: {changed} file(s) changed, committed."])
    if result.status == "not-committed":
        return Report(notes, [
            f"{_what(result)} is applied and staged, but git did not commit it: {result.reason}",
            "Fix that and run `git commit`. " + _undo(result),
        ])  # fmt: skip
    return Report(notes, _conflicts(result))


def _done(result: UpdateResult) -> str:
    verb, _, names = result.action.partition(" ")
    if verb == "add":
        return f"Added {names} (template {result.to_version})"
    if verb == "remove":
        return f"Removed {names} (template {result.to_version})"
    if verb == "merge":
        return f"Merged {names} (template {result.to_version})"
    if result.from_version != result.to_version:
        return f"Merged the template ({result.from_version} -> {result.to_version})"
    return f"Regenerated from the template {result.to_version}"


def _what(result: UpdateResult) -> str:
    verb, _, names = result.action.partition(" ")
    if verb in ("add", "remove", "merge"):
        return f"{verb.capitalize().removesuffix('e')}ing {names}"
    return f"The template ({result.from_version} -> {result.to_version})"


def _conflicts(result: UpdateResult) -> list[str]:
    kinds = [result.conflict_kinds.get(p, "in conflict") for p in result.conflicts]
    lines = [f"{_what(result)} conflicts with your changes in:"]
    lines += [f"  {path}: {kind}" for path, kind in zip(result.conflicts, kinds, strict=True)]
    if any(kind not in _NO_MARKERS for kind in kinds):
        lines.append("Resolve the markers in those files, `git add` them and `git commit`.")
    if any(kind in _WITHOUT_MARKERS for kind in kinds):
        lines.append(
            "A file deleted on one side has no markers: keep it (`git add FILE`) or delete it "
            "(`git rm FILE`), then `git commit`."
        )
    return [*lines, _undo(result)]
