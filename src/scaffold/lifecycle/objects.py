"""A scratch git object store: everything is computed there first, then kept or thrown away.

Dry runs and checks throw it away, so they write nothing into the project; a real update moves
its objects into the repository only once every refusal has been ruled out.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from scaffold.git import READ_ONLY, run_git

SCRATCH = "GIT_OBJECT_DIRECTORY"
REAL = "GIT_ALTERNATE_OBJECT_DIRECTORIES"


@contextmanager
def scratch_objects(repo: Path) -> Iterator[dict[str, str]]:
    """A git environment whose new objects go to a temporary store that reads the real one."""
    objects = object_directory(repo)
    with tempfile.TemporaryDirectory(prefix="scaffold-objects-") as scratch:
        yield {
            **READ_ONLY,
            SCRATCH: scratch,
            REAL: str(objects),
        }


def object_directory(repo: Path) -> Path:
    return (repo / run_git(repo, "rev-parse", "--git-path", "objects")).resolve()


def promote(env: Mapping[str, str]) -> None:
    """Copy the scratch store's objects into the repository's (objects are immutable files)."""
    source, target = Path(env[SCRATCH]), Path(env[REAL])
    for folder, _, names in os.walk(source):
        relative = Path(folder).relative_to(source)
        top = relative.parts[0] if relative.parts else ""
        if top == "pack":
            # a pack's index is copied after the pack: git never sees an index without its pack
            packs = (n for n in names if n.endswith((".pack", ".rev", ".idx")))
            kept = sorted(packs, key=_last_idx)
        else:
            kept = names if len(top) == 2 else []  # loose objects live in objects/xx/
        for name in kept:
            _copy_new(Path(folder) / name, target / relative / name)


def _last_idx(name: str) -> bool:
    return name.endswith(".idx")


def _copy_new(source: Path, target: Path) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.scaffold-tmp")
    shutil.copyfile(source, partial)
    partial.chmod(0o444)
    os.replace(partial, target)
