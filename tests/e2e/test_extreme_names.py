"""The shortest and the longest names `scaffold new` accepts give a service that lints and runs.

The matrix renders every combination under one ordinary name. A name also reaches line lengths,
the database, Redis keys and AWS names, so the fullest combination goes through the matrix's
static and runtime tiers under the extreme names too: a name is either refused up front or works
all the way.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scaffold.catalog import CATALOG
from scaffold.names import MAX_LENGTH, MIN_LENGTH, package_name, validate_project_name
from tests.matrix import runtime_checks
from tests.matrix.test_combinations import static_tier
from tests.support.render import project_and_python

FULLEST = tuple(c.name for c in CATALOG.available)
EXTREMES = [
    "a" + "9" * (MIN_LENGTH - 1),
    ("a_9-" * MAX_LENGTH)[: MAX_LENGTH - 1] + "9",
]


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.parametrize("name", EXTREMES, ids=lambda name: f"{len(name)}-characters")
def test_an_extreme_name_lints_tests_and_boots(
    name: str, tmp_path: Path, admin_database_url: str
) -> None:
    assert validate_project_name(name) == name
    project, python = project_and_python(tmp_path, name, FULLEST)
    static_tier(project, python, tmp_path / "mypy-cache")
    database = f"e2e_name_{len(name)}_{os.getpid()}"
    with runtime_checks.fresh_database(admin_database_url, database) as url:
        env = runtime_checks.project_env(python, project, url, {})
        runtime_checks.own_tests_pass(project, python, env)
        runtime_checks.boots_and_is_ready(project, python, package_name(name), env)
