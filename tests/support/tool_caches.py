"""Caches of mypy and ruff that outlast a test session: in .cache/matrix/<name>, one session at
a time (a lock); a session that finds them taken gets fresh ones in its fallback folder. Both
tools validate their entries by content, so a cache from an earlier run is only faster.

mypy's cache of the third-party packages is most of a cold run (26 of 28 CPU-s on the fullest
combination), and it is the same for every project checked in the shared environment.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def worker_name(suffix: str = "") -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main") + suffix


@contextmanager
def lasting_caches(name: str, fallback: Path) -> Iterator[Path]:
    """The folder of the caches called ``name``, held until the block ends."""
    caches = ROOT / ".cache" / "matrix" / name
    caches.mkdir(parents=True, exist_ok=True)
    with (caches / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            caches = fallback
            caches.mkdir(parents=True, exist_ok=True)
        yield caches
