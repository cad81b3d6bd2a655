"""Render the Copier template into a staging folder; move it into place only on full success.

A failed or interrupted render leaves the disk as it was: the staging folder is always removed,
and the target is created by a single rename at the very end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path

from scaffold.errors import Interrupted, OutputNotWritable, TemplateError


def render_project(
    template: str, target: Path, data: Mapping[str, object], *, dry_run: bool = False
) -> list[str]:
    """Render into ``target`` (which must be absent or empty) and return the files written."""
    stage_in = Path(tempfile.gettempdir()) if dry_run else _nearest_existing(target.parent)
    try:
        staging = Path(tempfile.mkdtemp(prefix=".scaffold-staging-", dir=stage_in))
    except OSError as error:
        raise OutputNotWritable(str(target.parent), error.strerror or str(error)) from None
    try:
        rendered = staging / target.name
        _run_copier(template, rendered, data)
        files = sorted(str(p.relative_to(rendered)) for p in rendered.rglob("*") if not p.is_dir())
        if not dry_run:
            _move_into_place(rendered, target)
        return files
    except KeyboardInterrupt:
        raise Interrupted() from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _run_copier(template: str, destination: Path, data: Mapping[str, object]) -> None:
    import copier  # deferred: importing Copier costs more than the rest of the CLI
    import jinja2
    from copier.errors import CopierError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Copier's DirtyLocalWarning etc.; we report errors
            copier.run_copy(
                template,
                destination,
                data=dict(data),
                defaults=True,
                quiet=True,
                unsafe=False,
                cleanup_on_error=True,
            )
    except (CopierError, jinja2.TemplateError, ValueError) as error:
        raise TemplateError(_first_line(error)) from None


def _move_into_place(rendered: Path, target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(rendered, target)  # atomic; replaces only an absent or empty folder
    except OSError as error:
        if error.errno == 18:  # EXDEV: staging on another filesystem
            shutil.move(str(rendered), str(target))
            return
        raise OutputNotWritable(str(target.parent), error.strerror or str(error)) from None


def _nearest_existing(folder: Path) -> Path:
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            if not candidate.is_dir():
                raise OutputNotWritable(str(folder), f"{candidate} is a file")
            return candidate
    return Path("/")


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
