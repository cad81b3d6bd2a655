"""What makes a valid project name: every rule a generated artifact puts on it, in one place.

The name becomes the project's folder, its Python distribution and package (``order-service``
-> ``order_service``), the PostgreSQL database (the package name), and the start of every AWS
resource name in the Terraform: ``<project>-<environment>`` plus a suffix, ``_`` turned into ``-``.
``scaffold new`` checks all of it before writing anything, so a name either works everywhere or
is refused with one line.
"""

from __future__ import annotations

import keyword
import re
import sys

from scaffold.errors import InvalidProjectName
from scaffold.service_dependencies import normalise, shadowed

MIN_LENGTH = 2
MAX_LENGTH = 31
"""The generated Terraform's own bounds on ``project_name`` (deploy/terraform/variables.tf).

Within them every AWS name derived from it fits: the longest, the IAM role
``<project>-<environment>-rds-monitoring`` with a 16-character environment, uses 63 of the 64
characters IAM allows; RDS identifiers stay within 63; the Terraform itself shortens load balancer
and target group names (32) and the ElastiCache replication group id (40).
tests/test_names_terraform.py evaluates every naming expression of the rendered Terraform to prove
it, and that one character beyond either bound breaks a rule.
"""

PATTERN = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
"""Lowercase ASCII, starting with a letter, single separators: a valid Python package once ``-``
becomes ``_``, and a valid AWS name (no trailing or doubled hyphen) once ``_`` becomes ``-``."""

AWS_RESERVED_PREFIXES = {
    "internal-": "load balancer names",
    "sg-": "security group names",
}
"""AWS refuses these names starting so; the Terraform starts them with ``<project>-``."""

POSTGRES_RESERVED_WORDS = frozenset(
    """
    all analyse analyze and any array as asc asymmetric authorization binary both case cast check
    collate collation column concurrently constraint create cross current_catalog current_date
    current_role current_schema current_time current_timestamp current_user default deferrable
    desc distinct do else end except false fetch for foreign freeze from full grant group having
    ilike in initially inner intersect into is isnull join lateral leading left like limit
    localtime localtimestamp natural not notnull null offset on only or order outer overlaps
    placing primary references returning right select session_user similar some symmetric
    system_user table tablesample then to trailing true union unique user using variadic verbose
    when where window with
    """.split()  # noqa: SIM905 - a hundred words read better as text than as a list
)
"""PostgreSQL 16's reserved key words (``pg_get_keywords()``, categories R and T): RDS refuses
them as the database name, which is the package name. tests/test_names.py compares this with
the running server's list."""

OWN_MODULES = frozenset({"scaffold", "tests"})
"""Top-level modules the generated project or this tool already use."""


def package_name(project_name: str) -> str:
    return project_name.replace("-", "_")


def aws_name(project_name: str) -> str:
    """The project name as the Terraform uses it in resource names."""
    return project_name.replace("_", "-")


def validate_project_name(name: str) -> str:
    """Return the name if it is valid; raise with the reason otherwise."""
    if not name:
        raise InvalidProjectName(name, "it is empty")
    if len(name) > MAX_LENGTH:
        raise InvalidProjectName(
            name[:20] + "…", f"longer than {MAX_LENGTH} characters (AWS names are built from it)"
        )
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
    if len(name) < MIN_LENGTH:
        raise InvalidProjectName(
            name, f"shorter than {MIN_LENGTH} characters (AWS names are built from it)"
        )
    _check_python(name)
    _check_database(name)
    _check_aws(name)
    return name


def _check_python(name: str) -> None:
    package = package_name(name)
    if keyword.iskeyword(package) or keyword.issoftkeyword(package):
        raise InvalidProjectName(name, "it is a Python keyword")
    if package in sys.stdlib_module_names or package in OWN_MODULES:
        raise InvalidProjectName(name, f"it would shadow the Python module {package!r}")
    dependencies = shadowed()
    owner = dependencies.modules.get(package)
    if owner is not None:
        raise InvalidProjectName(
            name, f"it would shadow the module {package!r}, which the service installs from {owner}"
        )
    if normalise(name) in dependencies.distributions:
        raise InvalidProjectName(
            name, f"the service depends on a distribution of that name ({normalise(name)})"
        )


def _check_database(name: str) -> None:
    if package_name(name) in POSTGRES_RESERVED_WORDS:
        raise InvalidProjectName(
            name, "it is a reserved word of PostgreSQL, and the database is named after it"
        )


def _check_aws(name: str) -> None:
    for prefix, what in AWS_RESERVED_PREFIXES.items():
        if f"{aws_name(name)}-".startswith(prefix):
            raise InvalidProjectName(
                name,
                f"AWS {what} cannot start with {prefix!r} "
                f"(the Terraform's start with '{aws_name(name)}-')",
            )
