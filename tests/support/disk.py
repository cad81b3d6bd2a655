"""Compare folder trees, to prove a command left the disk as it was."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from pathlib import Path


def snapshot(root: Path, leave_out: Collection[str] = ()) -> dict[str, str]:
    """Every path below root with its kind, mode and content hash.

    ``leave_out``: names of root's entries not to look into at all (``.git``: a project's
    object store is most of what a snapshot would read, and hashing it only to drop it is
    what made the lifecycle tests' snapshots slow).
    """
    entries: dict[str, str] = {}
    for path in sorted(_below(root, frozenset(leave_out))):
        relative = str(path.relative_to(root))
        stat = path.lstat()
        if path.is_symlink():
            entries[relative] = f"link {path.readlink()}"
        elif path.is_dir():
            entries[relative] = f"dir {stat.st_mode:o}"
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entries[relative] = f"file {stat.st_mode:o} {digest}"
    return entries


def _below(folder: Path, leave_out: frozenset[str]) -> Iterator[Path]:
    """What ``folder.rglob("*")`` yields (symlinked folders listed, not entered), but for the
    top-level names in ``leave_out``."""
    for path in folder.iterdir():
        if path.name in leave_out:
            continue
        yield path
        if path.is_dir() and not path.is_symlink():
            yield from _below(path, frozenset())
