"""Compare folder trees, to prove a command left the disk as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path


def snapshot(root: Path) -> dict[str, str]:
    """Every path below root with its kind, mode and content hash."""
    entries: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
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
