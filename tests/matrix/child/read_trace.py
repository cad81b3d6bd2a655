"""What a process read below one folder: the inputs a reused runtime result must be keyed by.

Installed in a fork-server child before it runs anything (see zygote_server): an audit hook
(PEP 578) sees every file opened (imports included, through ``io.open_code``) and every folder
listed (``os.listdir``/``os.scandir``, which the import system uses to find modules), and
``os.stat``/``os.lstat`` are wrapped to see existence probes (``Path.exists``, ``is_file`` …),
which raise no audit event. Paths are recorded relative to the folder.

A run cannot be keyed by its reads when it starts another program (whose reads nobody sees) or
writes into the folder; both are recorded, and such a run's result is never reused.

Standard library only: this runs inside the generated project's environment.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

SPAWNING = frozenset(
    {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
     "os.forkpty", "pty.spawn"}
)  # fmt: skip
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class ReadTrace:
    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)
        self.opened: set[str] = set()
        self.listed: set[str] = set()
        self.probed: set[str] = set()
        self.written: set[str] = set()
        self.spawned: list[str] = []
        self.errors: list[str] = []

    def install(self) -> None:
        sys.addaudithook(self._audit)
        os.stat = self._probing(os.stat)
        os.lstat = self._probing(os.lstat)

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
