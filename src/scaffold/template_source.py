"""Where the template comes from, and how that is recorded so any clone can find it again.

Three kinds: the template shipped inside the package (recorded as ``scaffold:service`` with the
tool's version as ``_commit``, so it resolves on any machine with scaffold installed), a folder
(recorded by absolute path), or a git URL (recorded as given; Copier records the tag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from scaffold import __version__
from scaffold.errors import ScaffoldError

PACKAGED = "scaffold:service"
_GIT_URL = re.compile(r"^(?:git\+|https?://|ssh://|git://|git@|file://|gh:|gl:)|\.git/?$")
_QUESTIONS_FILES = ("copier.yml", "copier.yaml")


@dataclass(frozen=True)
class TemplateSource:
    location: str
    """What Copier is given: an absolute folder or a git URL."""
    recorded: str
    """What `.copier-answers.yml` keeps as `_src_path`."""
    packaged: bool = False

    @property
    def is_git(self) -> bool:
        return bool(_GIT_URL.search(self.location)) or (Path(self.location) / ".git").exists()

    @property
    def packaged_version(self) -> str | None:
        return __version__ if self.packaged else None


def packaged_template() -> Path:
    """The service template inside the installed wheel, or in the source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates" / "service", here.parents[1] / "templates" / "service"):
        if _is_template(candidate):
            return candidate
    raise ScaffoldError("the packaged template is missing; reinstall scaffold")


def resolve_template(given: str | None) -> TemplateSource:
    if given is None or given == PACKAGED:
        return TemplateSource(str(packaged_template()), PACKAGED, packaged=True)
    if _GIT_URL.search(given):
        return TemplateSource(given, given)
    path = Path(given).expanduser()
    if not path.is_dir():
        raise ScaffoldError(f"template {given} is not a folder or a git URL")
    if not _is_template(path):
        raise ScaffoldError(f"template {given} has no copier.yml")
    absolute = str(path.resolve())
    return TemplateSource(absolute, absolute)


def _is_template(folder: Path) -> bool:
    return any((folder / name).is_file() for name in _QUESTIONS_FILES)
