"""Tier 1 checks that make a project test's assertions on its inputs cover that test: tier 2
leaves it out only when every check that covers it passed in that combination."""

from __future__ import annotations

from typing import Any

import pytest

from tests.matrix import observability_checks
from tests.matrix.static_tier import CHECKS, covered_tests

PROMTOOL = [check.name for check in CHECKS if check.name.startswith("promtool")]


def results(**outcomes: str) -> dict[str, dict[str, Any]]:
    every = {check.name: "passed" for check in CHECKS if check.name not in PROMTOOL}
    return {name: {"outcome": outcome} for name, outcome in {**every, **outcomes}.items()}


def test_both_rule_checks_passing_cover_the_projects_promtool_tests() -> None:
    passed = results(**{name: "passed" for name in PROMTOOL})

    assert len(PROMTOOL) == 2
    assert covered_tests(passed) == observability_checks.PROMTOOL_TESTS


@pytest.mark.parametrize("failing", PROMTOOL)
def test_one_failed_or_unrun_rule_check_covers_nothing(failing: str) -> None:
    others = {name: "passed" for name in PROMTOOL if name != failing}

    assert covered_tests(results(**others, **{failing: "failed"})) == ()
    assert covered_tests(results(**others)) == ()  # not chosen: SCAFFOLD_MATRIX_CHECKS
