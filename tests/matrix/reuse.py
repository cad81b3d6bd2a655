"""Results reused within one matrix run, keyed by the content of everything they depend on.

Like a build cache's action cache: a check that already ran on identical inputs (the same bytes
in the files it reads, the same tool, the same check code, the same services) has its result
looked up instead of run again, and every reuse is counted in the report. Failures are reused
too, so a combination with a broken input fails exactly like the one that ran.

Two ways to know the inputs:
- declared (``get``/``put``): the check names the paths it reads (e.g. terraform fmt reads
  deploy/terraform), and the key is their state;
- discovered (``find``/``record``): a runtime result is stored with the manifest of what the run
  actually read (see child/read_trace.py), under a primary key of everything else; a later
  combination reuses it only if those very paths are in the same state in its own tree. This is
  ccache's "direct mode" with its include-file manifest.

The store is a folder of JSON files shared by the xdist workers of one run (writes are atomic
renames); ``SCAFFOLD_MATRIX_REUSE=0`` turns reuse off.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import posixpath
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.matrix.content import path_kind, path_state


@dataclass(frozen=True)
class Result:
    outcome: str
    """passed | failed"""
    message: str
    source: str
    """The combination that ran it."""
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Manifest:
    """What a run read below the project folder. Its key is the state of exactly those paths:
    for a file opened, its bytes; for a folder listed, its names (not their contents: the files
    read in it are in the manifest themselves); for a path only probed (``Path.exists``,
    ``is_file``: a stat), what kind of thing is there, if anything. A program that branched on
    a file's size or mtime without reading it would escape this; nothing here does."""

    read: list[str]
    probed: list[str] = field(default_factory=list)
    viewed: list[str] = field(default_factory=list)
    """Folders pytest listed, each keyed by only the names the run could collect (a JSON
    ``[folder, ignored paths, ignored patterns]``: ``view_state``)."""

    def key(self, root: Path, seen: TreeStates | None = None) -> str:
        states = seen or TreeStates(root)
        return key_of(
            (states.read_token(path) for path in sorted(self.read)),
            (states.probe_token(path) for path in sorted(self.probed)),
            (states.view_token(view) for view in sorted(self.viewed)),
        )


def read_token(path: str, state: list[object]) -> str:
    """A path read and its state (content.path_state), as JSON: no raw newline."""
    return json.dumps([path, state])


def probe_token(path: str, kind: str) -> str:
    """A path probed and its kind (content.path_kind), as JSON."""
    return json.dumps([path, kind])


def view_token(view: str, state: list[object]) -> str:
    """A folder viewed (its record, ``Manifest.viewed``) and what the view sees, as JSON."""
    return json.dumps([view, state])


def view_state(root: Path, view: str) -> list[object]:
    """What a view of a folder sees (child/read_trace.py, ``ReadTrace.view``): the names in it
    (as ``path_state`` lists them) less those pytest's ``--ignore`` (a path) or
    ``--ignore-glob`` (a pattern, ``fnmatch`` on the path) leave out, paths relative to the
    project; or what is there instead of a folder."""
    folder, ignored, patterns = json.loads(view)
    state = path_state(root, folder)
    if state[0] != "dir":
        return state
    names = [str(name) for name in state[1]]  # type: ignore[attr-defined]

    def left_out(name: str) -> bool:
        path = posixpath.normpath(posixpath.join(folder, name))
        return path in ignored or any(fnmatch.fnmatch(path, p) for p in patterns)

    return ["view", [name for name in names if not left_out(name)]]


def key_of(read: Iterable[str], probed: Iterable[str], viewed: Iterable[str] = ()) -> str:
    """A manifest's key from its paths' tokens, each list in the manifest's sorted order (a
    manifest without views: the key it had before views existed)."""
    text = "\n".join(read) + "\n\n" + "\n".join(probed)
    views = list(viewed)
    if views:
        text += "\n\n" + "\n".join(views)
    return hashlib.sha256(text.encode()).hexdigest()


class TreeStates:
    """Each path's state in one tree, as a JSON token (no raw newline), read once: a lookup
    compares the tree with every stored manifest of a part (one per earlier run that read
    something different, up to one per combination, each naming ~300 files read and ~1,500
    paths the imports probed), and those manifests mostly name the same paths. Only for a tree
    that does not change while it is used (one lookup)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._read: dict[str, str] = {}
        self._probed: dict[str, str] = {}
        self._viewed: dict[str, str] = {}

    def read_token(self, path: str) -> str:
        if path not in self._read:
            self._read[path] = read_token(path, path_state(self.root, path))
        return self._read[path]

    def probe_token(self, path: str) -> str:
        if path not in self._probed:
            self._probed[path] = probe_token(path, path_kind(self.root, path))
        return self._probed[path]

    def view_token(self, view: str) -> str:
        if view not in self._viewed:
            self._viewed[view] = view_token(view, view_state(self.root, view))
        return self._viewed[view]


def enabled() -> bool:
    return os.environ.get("SCAFFOLD_MATRIX_REUSE", "1") != "0"


class Store:
    def __init__(self, folder: Path, active: bool = True) -> None:
        self.folder = folder
        self.active = active
        # Stored entries this process has parsed, by file and its (mtime, size): a lookup
        # reads only the ones written since (by any worker), or rewritten by a racing worker.
        self._parsed: dict[Path, tuple[tuple[int, int], Manifest, Result]] = {}

    def get(self, kind: str, key: str) -> Result | None:
        path = self.folder / kind / f"{key}.json"
        if not self.active or not path.is_file():
            return None
        return Result(**json.loads(path.read_text(encoding="utf-8"))["result"])

    def put(self, kind: str, key: str, result: Result, manifest: Manifest | None = None) -> None:
        if not self.active:
            return
        entry: dict[str, Any] = {"result": asdict(result)}
        if manifest is not None:
            entry["manifest"] = asdict(manifest)
        _write_atomically(self.folder / kind / f"{key}.json", json.dumps(entry))

    def find(self, kind: str, primary: str, root: Path) -> Result | None:
        """A result stored under ``primary`` whose manifest's paths are in the same state here."""
        folder = self.folder / kind / primary
        if not self.active or not folder.is_dir():
            return None
        seen = TreeStates(root)
        for entry_path in sorted(folder.glob("*.json")):
            manifest, result = self._entry(entry_path)
            if manifest.key(root, seen) == entry_path.stem:
                return result
        return None

    def _entry(self, path: Path) -> tuple[Manifest, Result]:
        info = path.stat()
        version = (info.st_mtime_ns, info.st_size)
        known = self._parsed.get(path)
        if known is None or known[0] != version:
            entry = json.loads(path.read_text(encoding="utf-8"))
            known = (version, Manifest(**entry["manifest"]), Result(**entry["result"]))
            self._parsed[path] = known
        return known[1], known[2]

    def record(
        self, kind: str, primary: str, root: Path, manifest: Manifest, result: Result
    ) -> None:
        self.put(f"{kind}/{primary}", manifest.key(root), result, manifest)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "w", encoding="utf-8") as sink:
        sink.write(text)
    os.replace(temporary, path)
