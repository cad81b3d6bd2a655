"""Where a combination is rendered: the same folder for every combination an xdist worker runs.

Each combination renders into a staging folder through `scaffold new`'s code path, and is then
synchronised into the worker's stable folder: files whose bytes and mode did not change are left
alone (their modification times too), the others are replaced, and files of the previous
combination that this one does not have are deleted. Tools that cache by path and mtime (mypy,
ruff) then find unchanged files unchanged, and the project's modules keep one import path.
The synchronised tree is compared with the staging tree file by file afterwards: a leftover of a
previous combination (or a cache a tool left in the project) is deleted, and a difference would
fail loudly here.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from pathlib import Path

from scaffold.commands.new import NewOptions, create_project
from scaffold.selection import Request, Selection

PROJECT = "matrix-svc"


def render(selection: Selection, folder: Path, template: str | None) -> Path:
    """Render `selection` and leave it in ``folder/PROJECT``, reusing unchanged files there."""
    staging = folder / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    request = Request(with_=tuple(sorted(selection.capabilities)), variants=selection.variants)
    options = NewOptions(
        name=PROJECT,
        output_dir=staging,
        request=request,
        template=template,
        git=False,
        lock=False,  # locking resolves against PyPI: tests/cli/test_new_lock.py covers it
    )
    rendered = create_project(options).target
    stable = folder / PROJECT
    synchronise(rendered, stable)
    shutil.rmtree(staging)
    return stable


def synchronise(source: Path, target: Path) -> None:
    """Make ``target`` hold exactly the files of ``source``, touching only what differs."""
    target.mkdir(parents=True, exist_ok=True)
    wanted = _relative_files(source)
    for stale in sorted(_relative_files(target) - wanted):
        (target / stale).unlink()
    for relative in sorted(wanted):
        new, old = source / relative, target / relative
        if old.is_file() and _same(new, old):
            continue
        old.parent.mkdir(parents=True, exist_ok=True)
        os.replace(new, old)
    _remove_empty_folders(target, _relative_folders(source))
    for relative in _relative_folders(source):
        (target / relative).mkdir(parents=True, exist_ok=True)
    assert _relative_files(target) == wanted, "the stable folder differs from the render"


def _same(new: Path, old: Path) -> bool:
    return new.stat().st_mode == old.stat().st_mode and filecmp.cmp(new, old, shallow=False)


def _relative_files(root: Path) -> set[str]:
    found: set[str] = set()
    for directory, _dirs, files in os.walk(root):
        found.update(str(Path(directory, name).relative_to(root)) for name in files)
    return found


def _relative_folders(root: Path) -> set[str]:
    found: set[str] = set()
    for directory, dirs, _ in os.walk(root):
        found.update(str(Path(directory, name).relative_to(root)) for name in dirs)
    return found


def _remove_empty_folders(target: Path, keep: set[str]) -> None:
    for directory, _dirs, files in os.walk(target, topdown=False):
        relative = str(Path(directory).relative_to(target))
        if relative != "." and relative not in keep and not files and not os.listdir(directory):
            os.rmdir(directory)
