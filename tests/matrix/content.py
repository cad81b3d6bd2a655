"""Digests of file contents: the keys under which the matrix reuses provably identical work.

A key is a digest of everything a result depends on. Paths go in relative to the project, so
the same content rendered in two places has the same key; a file's executable bit goes in with
its bytes; a folder counts with the names in it, so a file that appears or disappears changes
the key even when nobody reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable
from functools import cache
from pathlib import Path

SKIP_DIRS = frozenset(
    {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
)


def digest(*parts: object) -> str:
    """A stable digest of JSON-able parts."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def path_state(root: Path, relative: str) -> list[object]:
    """What a path is, for a key: absent, a file (its bytes and exec bit), or a folder (names)."""
    path = root / relative
    try:
        info = path.lstat()
    except FileNotFoundError:
        return ["absent"]
    except OSError as error:  # e.g. a probe of "file/below" (ENOTDIR)
        return ["unreachable", error.errno]
    if stat.S_ISLNK(info.st_mode):
        return ["link", os.readlink(path)]
    if stat.S_ISDIR(info.st_mode):
        return ["dir", sorted(set(os.listdir(path)) - SKIP_DIRS)]
    return ["file", file_digest(path), bool(info.st_mode & stat.S_IXUSR)]


def path_kind(root: Path, relative: str) -> str:
    """What a stat sees, without the contents: absent, file, dir, link or unreachable."""
    try:
        mode = (root / relative).lstat().st_mode
    except FileNotFoundError:
        return "absent"
    except OSError:
        return "unreachable"
    if stat.S_ISLNK(mode):
        return "link"
    return "dir" if stat.S_ISDIR(mode) else "file"


def files_under(root: Path, folder: str = "") -> list[str]:
    """Every file below ``root/folder`` (relative to root, sorted), caches excluded."""
    base = root / folder
    found: list[str] = []
    for directory, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        here = Path(directory).relative_to(root)
        found.extend(str(here / name) for name in files)
    return sorted(found)


def state_of(root: Path, paths: Iterable[str]) -> list[object]:
    """The states of the given paths; a folder stands for itself and everything below it."""
    states: list[object] = []
    for relative in sorted(set(paths)):
        state = path_state(root, relative)
        states.append([relative, state])
        if state[0] == "dir":
            states.extend([f, path_state(root, f)] for f in files_under(root, relative))
            states.extend([d, path_state(root, d)] for d in _folders_under(root, relative))
    return states


def _folders_under(root: Path, folder: str) -> list[str]:
    found: list[str] = []
    for directory, dirs, _ in os.walk(root / folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        here = Path(directory).relative_to(root)
        found.extend(str(here / name) for name in dirs)
    return sorted(found)


def tree_digest(root: Path) -> str:
    """One digest for a folder: every file's path, bytes and exec bit, every folder's names."""
    return digest(state_of(root, ["."]))


@cache
def tool_digest(executable: str) -> str:
    """A tool's identity: the digest of its binary (resolved once per process)."""
    return file_digest(Path(executable).resolve())
