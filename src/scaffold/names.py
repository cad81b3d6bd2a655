"""What makes a valid project name: a folder name, a distribution name and a Python package."""

from __future__ import annotations

import keyword
import re
import sys

from scaffold.errors import InvalidProjectName

MAX_LENGTH = 50
PATTERN = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
# Names that would shadow what the generated service imports.
_RESERVED = frozenset(
    {"scaffold", "fastapi", "sqlalchemy", "alembic", "pydantic", "uvicorn", "tests"}
)


def package_name(project_name: str) -> str:
    return project_name.replace("-", "_")


def validate_project_name(name: str) -> str:
    """Return the name if it is valid; raise with the reason otherwise."""
    if not name:
        raise InvalidProjectName(name, "it is empty")
    if len(name) > MAX_LENGTH:
        raise InvalidProjectName(name[:20] + "…", f"longer than {MAX_LENGTH} characters")
    if not name.isascii():
        raise InvalidProjectName(name, "use ASCII letters, digits, '-' and '_' only")
    if "/" in name or "\\" in name or name.startswith("."):
        raise InvalidProjectName(name, "a name, not a path; use --output-dir to choose the folder")
    if not PATTERN.fullmatch(name):
        raise InvalidProjectName(
            name,
            "start with a lowercase letter, then lowercase letters and digits, "
            "separated by single '-' or '_'",
        )
    package = package_name(name)
    if keyword.iskeyword(package) or keyword.issoftkeyword(package):
        raise InvalidProjectName(name, "it is a Python keyword")
    if package in sys.stdlib_module_names or package in _RESERVED:
        raise InvalidProjectName(name, f"it would shadow the Python module {package!r}")
    return name
