"""The shortest and the longest names `scaffold new` accepts give a service that lints and runs.

The matrix renders every combination under one ordinary name. A name also reaches line lengths,
the database, Redis keys and AWS names, so the fullest combination goes through the matrix's
static and runtime tiers under the extreme names too: a name is either refused up front or works
all the way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.catalog import CATALOG
from scaffold.names import MAX_LENGTH, MIN_LENGTH, package_name, validate_project_name
from tests.matrix.reuse import Store
from tests.matrix.static_checks import Tools
from tests.matrix.static_tier import failures, static_tier
from tests.support.render import project_and_python
from tests.support.tool_caches import lasting_caches, worker_name
from tests.support.warm_tier_two import tier_two_warm

FULLEST = tuple(c.name for c in CATALOG.available)
EXTREMES = [
    "a" + "9" * (MIN_LENGTH - 1),
    ("a_9-" * MAX_LENGTH)[: MAX_LENGTH - 1] + "9",
]


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.parametrize("name", EXTREMES, ids=lambda name: f"{len(name)}-characters")
def test_an_extreme_name_lints_tests_and_boots(name: str, tmp_path: Path) -> None:
    assert validate_project_name(name) == name
    project, python = project_and_python(tmp_path, name, FULLEST)
    label = f"{len(name)}-characters"
    with lasting_caches(worker_name("-checks"), tmp_path / "caches") as caches:
        tools = Tools(python=python, caches=caches)
        results = static_tier(project, tools, Store(tmp_path / "store", active=False), label)
    assert failures(results) == ""
    package = package_name(name)
    result = tier_two_warm(project, python, package, tmp_path / "logs", label, frozenset(FULLEST))
    assert result.outcome == "passed", result.message
