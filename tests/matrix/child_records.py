"""The records of the processes a traced run started (child/read_trace.py), as the matrix
reads them: each child's streamed record, and for a program started under strace, what strace
saw it do. Runs in the matrix's own environment, never in a traced process."""

from __future__ import annotations

import codecs
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from tests.matrix.child.read_trace import KINDS

PROBING = frozenset({
    "stat", "lstat", "newfstatat", "fstatat64", "statx", "access", "faccessat", "faccessat2",
    "statfs", "getxattr", "lgetxattr", "listxattr", "llistxattr",
})  # fmt: skip
"""Calls that see what is at a path (its kind), not its bytes."""
OPENING = frozenset({"open", "openat", "openat2", "creat", "execve", "execveat", "readlink",
                     "readlinkat", "getdents", "getdents64"})  # fmt: skip
CALL = re.compile(r"(\d+) +(\w+)\((.*)")
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
DESCRIPTOR = re.compile(r"(?:AT_FDCWD|\d+)<((?:[^>\\]|\\.)*)>")
ENDED = re.compile(r"(\d+) +\+\+\+ (?:exited with|killed by) ")
"""A process's end; strace pads a process id below 10000 with more spaces (``9392  +++``)."""


def _unescaped(text: str) -> str:
    return os.fsdecode(codecs.escape_decode(text.encode())[0])


def strace_reads(output: Path, root: str, patience: float = 5.0) -> dict[str, Any]:
    """``_strace_reads``, read again for up to ``patience`` seconds while a process has not
    ended in it: strace, a detached grandchild, writes a process's end after the process's
    parent has seen it end."""
    deadline = time.monotonic() + patience
    found, ended = _strace_reads(output, root)
    while not ended and time.monotonic() < deadline:  # other errors stay: no use waiting
        time.sleep(0.1)
        found, ended = _strace_reads(output, root)
    return found


def _strace_reads(output: Path, root: str) -> tuple[dict[str, Any], bool]:
    """A record of what the processes strace followed did below ``root``: a file opened or
    executed is read, a folder listed, a path stat'ed probed, and anything else a call that
    names a path did there (create, rename, remove, chmod ...) a write. Every process must have
    ended (strace writes its end after its every call): else, an error; and whether they had."""
    found: dict[str, Any] = {kind: set() for kind in KINDS}
    found.update(created=0, untraceable=[], errors=[])
    seen: set[str] = set()
    ended: set[str] = set()
    prefix = root + os.sep
    if not output.is_file():  # killed before strace began
        found["errors"].append(f"{output}: no output")
        return found, False
    for line in output.read_text(encoding="utf-8", errors="surrogateescape").splitlines():
        end = ENDED.match(line)
        if end:
            ended.add(end.group(1))
            continue
        call = CALL.match(line)
        if not call:
            continue  # a resumed call (its paths were on its first line), a signal
        pid, name, arguments = call.groups()
        seen.add(pid)
        if name in ("fchdir", "chdir", "chroot", "getcwd"):
            continue  # each later call's AT_FDCWD<...> shows the folder it is relative to
        kind, paths = _paths_of(name, arguments, found["errors"])
        for path in paths:
            absolute = os.path.normpath(path)
            if absolute == root or absolute.startswith(prefix):
                relative = "." if absolute == root else absolute[len(prefix) :]
                found[kind].add(relative)
    every_one_ended = bool(seen) and not seen - ended
    if not every_one_ended:
        found["errors"].append(f"{output}: processes that did not end: {sorted(seen - ended)}")
    found["probed"] -= found["opened"]
    return found, every_one_ended


def child_records(folder: Path) -> list[dict[str, Any]] | None:
    """The records of a run's child processes (none: an empty list), each with its ``pid``,
    ``ppid``, a set per kind of read, ``created`` and ``untraceable``; None when one cannot be
    read. A record's last line may be cut short (the process was killed while appending it,
    before the read it announced): it is left out."""
    if not folder.is_dir():
        return []
    records = []
    for path in sorted(folder.glob("*.jsonl")):
        lines = path.read_bytes().split(b"\n")
        try:
            items = [json.loads(line) for line in lines[:-1]]
        except ValueError:
            return None
        if not items or not isinstance(items[0], dict):
            return None  # killed before it said who it is: it read nothing yet, but unknown
        record: dict[str, Any] = {**items[0], "created": 0, "untraceable": [], "errors": []}
        record.update({kind: set() for kind in KINDS})
        if record["start"] == "strace":
            record.update(strace_reads(Path(record["strace"]), record["root"]))
        for kind, value in items[1:]:
            if kind == "created":
                record["created"] += 1
            elif kind in ("untraceable", "errors"):
                record[kind].append(value)
            else:
                record[kind].add(value)
        records.append(record)
    return records


def _paths_of(name: str, arguments: str, errors: list[str]) -> tuple[str, list[str]]:
    """What one call did (opened, listed, probed, written) and the absolute paths it named."""
    folders = [_unescaped(p) for p in DESCRIPTOR.findall(arguments)]
    strings = [_unescaped(s) for s in STRING.findall(arguments.split("<unfinished", maxsplit=1)[0])]
    at = folders[0] if arguments.startswith(("AT_FDCWD", *"0123456789")) else None
    if name in ("getdents", "getdents64"):
        return "listed", folders[:1]
    elif name in PROBING or name in OPENING:
        if name in PROBING:
            kind = "probed"
        else:
            writes = re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND", arguments)
            kind = "written" if writes or name == "creat" else "opened"
        path = strings[0] if strings else ""
        if os.path.isabs(path):
            paths = [path]
        elif at is not None:
            paths = [os.path.join(at, path) if path else at]
        else:  # relative to a working folder strace did not show (open, stat, access)
            errors.append(f"{name}: {path!r} relative to an unknown folder")
            paths = []
    else:  # a change (create, rename, remove, chmod ...): each path it names
        kind, paths = "written", []
        for index, path in enumerate(strings):
            base = folders[min(index, len(folders) - 1)] if folders else None
            if os.path.isabs(path) or base is not None:
                paths.append(os.path.join(base or "/", path) if path else base or "/")
            else:
                errors.append(f"{name}: {path!r} relative to an unknown folder")
    return kind, paths
