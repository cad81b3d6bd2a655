"""Where the template comes from: the one shipped in the package, a folder, or a git URL."""

from __future__ import annotations

import re
from pathlib import Path

from scaffold.errors import ScaffoldError

_GIT_URL = re.compile(r"^(?:git\+|https?://|ssh://|git://|git@|file://)|\.git$")
_QUESTIONS_FILES = ("copier.yml", "copier.yaml")


def packaged_template() -> Path:
    """The service template inside the installed wheel, or in the source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates" / "service", here.parents[1] / "templates" / "service"):
        if _is_template(candidate):
            return candidate
    raise ScaffoldError("the packaged template is missing; reinstall scaffold")


def resolve_template(given: str | None) -> str:
    """A source Copier accepts: an absolute folder path or a git URL."""
    if given is None:
        return str(packaged_template())
    if _GIT_URL.search(given):
        return given
    path = Path(given).expanduser()
    if not path.is_dir():
        raise ScaffoldError(f"template {given} is not a folder or a git URL")
    if not _is_template(path):
        raise ScaffoldError(f"template {given} has no copier.yml")
    return str(path.resolve())


def _is_template(folder: Path) -> bool:
    return any((folder / name).is_file() for name in _QUESTIONS_FILES)
