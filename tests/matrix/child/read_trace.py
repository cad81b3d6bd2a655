"""What a process read below one folder: the inputs a reused runtime result must be keyed by.

Installed in a fork-server child before it runs anything (see zygote_server): an audit hook
(PEP 578) sees every file opened (imports included, through ``io.open_code``) and every folder
listed (``os.listdir``/``os.scandir``, which the import system uses to find modules), and
``os.stat``/``os.lstat`` are wrapped to see existence probes (``Path.exists``, ``is_file`` …),
which raise no audit event. Paths are recorded relative to the folder.

A run cannot be keyed by its reads when it starts another program (whose reads nobody sees) or
writes into the folder; both are recorded, and such a run's result is never reused.

Imports are keyed precisely, not by whole folders. The import system's ``FileFinder`` lists a
folder once to fill its cache, then answers each ``find_spec(fullname)`` from that cache: with
``tail`` the last part of the name, the answer depends only on whether ``tail`` and ``tail +
suffix`` (for each of the finder's loader suffixes) are among the folder's names, on
``tail/__init__ + suffix`` being a file and ``tail`` a folder (stats done on those hits), and
then on the bytes of the file it finds (opened, so recorded as a read). Every other name in
the folder cannot change the answer. So the listing made while a finder fills its cache is not
recorded; each lookup records instead, as probes, every one of those paths: the manifest keys
a probe by what is there (absent, file, folder: ``path_kind``), which is exactly the
membership and the stats the lookup used. Likewise the folder a finder is made for (its path
hook checks that it is a folder) is recorded as a probe. The cache can only be stale for names
created after it was filled, which a run that writes into the project does (never reused).
Listings made by anything else (pytest collecting a folder, ``pkgutil.iter_modules``, the
tests' own code) are keyed by all the names in the folder. On a case-insensitive platform the
finder matches names by another rule; there, its listings are recorded whole as well.

Standard library only: this runs inside the generated project's environment.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

SPAWNING = frozenset(
    {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
     "os.forkpty", "pty.spawn"}
)  # fmt: skip
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
CASE_INSENSITIVE = sys.platform.startswith(("win", "cygwin", "darwin"))


class ReadTrace:
    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)
        self.opened: set[str] = set()
        self.listed: set[str] = set()
        self.probed: set[str] = set()
        self.written: set[str] = set()
        self.spawned: list[str] = []
        self.errors: list[str] = []
        self._filling: set[int] = set()
        """Threads inside a FileFinder filling its cache: their listing is not recorded."""

    def install(self) -> None:
        sys.addaudithook(self._audit)
        os.stat = self._probing(os.stat)
        os.lstat = self._probing(os.lstat)
        if not CASE_INSENSITIVE:
            self._trace_imports()

    def _trace_imports(self) -> None:
        finder: Any = importlib.machinery.FileFinder
        fill_cache, find_spec = finder._fill_cache, finder.find_spec
        trace = self

        def filling(self: Any) -> None:
            trace._filling.add(threading.get_ident())
            try:
                fill_cache(self)
            finally:
                trace._filling.discard(threading.get_ident())

        def looking_up(self: Any, fullname: str, target: Any = None) -> Any:
            trace._looked_up(self.path or os.getcwd(), fullname, [s for s, _ in self._loaders])
            return find_spec(self, fullname, target)

        finder._fill_cache = filling
        finder.find_spec = looking_up
        sys.path_hooks[:] = [self._hooking(hook) for hook in sys.path_hooks]

    def _looked_up(self, folder: str, fullname: str, suffixes: list[str]) -> None:
        """The paths a FileFinder's answer for ``fullname`` depends on, as probes."""
        try:
            tail = fullname.rpartition(".")[2]
            names = [tail, *(tail + s for s in suffixes)]
            names += [os.path.join(tail, "__init__" + s) for s in suffixes]
            for name in names:
                relative = self._relative(os.path.join(folder, name))
                if relative is not None:
                    self.probed.add(relative)
        except Exception as error:
            self.errors.append(f"find_spec: {error!r}")

    def _hooking(self, hook: Callable[[str], Any]) -> Callable[[str], Any]:
        """FileFinder's path hook accepts only a folder: whether there is one is an input."""
        if not getattr(hook, "__qualname__", "").startswith("FileFinder.path_hook"):
            return hook

        def checked(path: str) -> Any:
            relative = self._relative(path or os.getcwd())
            if relative is not None:
                self.probed.add(relative)
            return hook(path)

        return checked

    def _relative(self, path: Any) -> str | None:
        if isinstance(path, int) or path is None:
            return None
        text = os.fsdecode(os.fspath(path))
        absolute = os.path.normpath(os.path.join(os.getcwd(), text))
        if absolute == self.root:
            return "."
        if absolute.startswith(self.root + os.sep):
            return absolute[len(self.root) + 1 :]
        return None

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        try:
            if event == "open":
                relative = self._relative(args[0])
                if relative is not None:
                    mode, flags = args[1], args[2]
                    writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                        isinstance(flags, int) and flags & WRITE_FLAGS
                    )
                    (self.written if writes else self.opened).add(relative)
            elif event in ("os.listdir", "os.scandir"):
                if threading.get_ident() in self._filling:
                    return  # keyed per lookup instead (_looked_up)
                relative = self._relative(args[0] if args[0] is not None else ".")
                if relative is not None:
                    self.listed.add(relative)
            elif event in SPAWNING:
                self.spawned.append(event)
        except Exception as error:  # an audit hook that raises would break the traced call
            self.errors.append(f"{event}: {error!r}")

    def _probing(self, real: Callable[..., os.stat_result]) -> Callable[..., os.stat_result]:
        def probe(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
            try:
                relative = self._relative(path)
                if relative is not None:
                    self.probed.add(relative)
            except Exception as error:
                self.errors.append(f"stat: {error!r}")
            return real(path, *args, **kwargs)

        return probe

    def write(self, target: Path) -> None:
        data = {
            "opened": sorted(self.opened),
            "listed": sorted(self.listed),
            "probed": sorted(self.probed - self.opened),
            "written": sorted(self.written),
            "spawned": self.spawned,
            "errors": self.errors,
        }
        target.write_text(json.dumps(data), encoding="utf-8")
