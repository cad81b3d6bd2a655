"""Render the Copier template: into a staging folder moved into place only on full success
(``render_project``), or into a folder of the caller's (``render_tree``, for updates).

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

import yaml

from scaffold.errors import Interrupted, OutputNotWritable, TemplateError
from scaffold.template_source import TemplateSource

ANSWERS_FILE = ".copier-answers.yml"


def render_project(
    source: TemplateSource,
    target: Path,
    data: Mapping[str, object],
    *,
    dry_run: bool = False,
) -> list[str]:
    """Render into ``target`` (which must be absent or empty) and return the files written."""
    stage_in = Path(tempfile.gettempdir()) if dry_run else _nearest_existing(target.parent)
    try:
        staging = Path(tempfile.mkdtemp(prefix=".scaffold-staging-", dir=stage_in))
    except OSError as error:
        raise OutputNotWritable(str(target.parent), error.strerror or str(error)) from None
    try:
        rendered = staging / target.name
        files = render_tree(source, rendered, data)
        if not dry_run:
            _move_into_place(rendered, target)
        return files
    except KeyboardInterrupt:
        raise Interrupted() from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def render_tree(
    source: TemplateSource,
    destination: Path,
    data: Mapping[str, object],
    vcs_ref: str | None = None,
    answers_file: str | None = None,
) -> list[str]:
    """Render into ``destination`` and record the source portably; return the files.

    ``answers_file`` is where the answers go (default: where the template says).
    """
    written = _run_copier(source.location, destination, data, vcs_ref, answers_file)
    _record_source(destination / written, source)
    return sorted(str(p.relative_to(destination)) for p in destination.rglob("*") if not p.is_dir())


def answers_file_in(folder: Path) -> str:
    """The answers file of a rendered folder: Copier's default name, or the YAML file that
    records a `_src_path` (a template may choose another name with `_answers_file`)."""
    if (folder / ANSWERS_FILE).is_file():
        return ANSWERS_FILE
    for path in sorted(folder.rglob("*.y*ml")):
        if ".git" in path.relative_to(folder).parts or not path.is_file():
            continue
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(loaded, dict) and "_src_path" in loaded:
            return path.relative_to(folder).as_posix()
    return ANSWERS_FILE


def _run_copier(
    template: str,
    destination: Path,
    data: Mapping[str, object],
    vcs_ref: str | None,
    answers_file: str | None,
) -> str:
    import copier  # deferred: importing Copier costs more than the rest of the CLI
    import jinja2
    from copier.errors import CopierError

    from scaffold.compile_memo import compiled_once
    from scaffold.copier_shortcuts import no_index_sync, plain_answers_path

    try:
        with warnings.catch_warnings(), no_index_sync(), plain_answers_path(), compiled_once():
            warnings.simplefilter("ignore")  # Copier's DirtyLocalWarning etc.; we report errors
            worker = copier.run_copy(
                template,
                destination,
                data=dict(data),
                answers_file=answers_file,
                vcs_ref=vcs_ref,
                defaults=True,
                quiet=True,
                unsafe=False,
                cleanup_on_error=True,
            )
            return worker.answers_relpath.as_posix()
    except (CopierError, jinja2.TemplateError, ValueError) as error:
        raise TemplateError(_first_line(error)) from None
    except OSError as error:  # e.g. a dangling symlink in the template
        where = f": {_in_template(str(error.filename), template)}" if error.filename else ""
        raise TemplateError(f"{error.strerror or type(error).__name__}{where}") from None


def _in_template(path: str, template: str) -> str:
    """A path inside Copier's temporary clone of a git template, as a path of the template."""
    parts = Path(path).parts
    clone = next((i for i, part in enumerate(parts) if part.startswith("copier._vcs.clone")), None)
    return path if clone is None else f"{'/'.join(parts[clone + 1 :])} in {template}"


def _record_source(answers_file: Path, source: TemplateSource) -> None:
    """Replace Copier's machine-specific ``_src_path`` with one that resolves anywhere."""
    if not answers_file.is_file():
        return
    text = answers_file.read_text(encoding="utf-8")
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    answers = yaml.safe_load(text) or {}
    answers["_src_path"] = source.recorded
    if source.packaged_version is not None:
        answers["_commit"] = source.packaged_version
    ordered = dict(sorted(answers.items()))
    answers_file.write_text(header + yaml.safe_dump(ordered, sort_keys=False), encoding="utf-8")


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
