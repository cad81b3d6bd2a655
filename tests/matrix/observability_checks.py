"""Tier 1 for combinations with `observability`: promtool accepts the generated alert rules,
and their unit tests pass (both static: no service runs).

The service's own rules (its objectives: their tests evaluate hours of series, seconds of
promtool) are the same in every combination, and the capabilities' rules are a file of their
own: two checks, each keyed on its pair of files, so the costly one runs once per matrix."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.matrix.static_checks import run

PROMETHEUS = Path("deploy/observability/prometheus")
SERVICE_RULES = (PROMETHEUS / "rules.yml", PROMETHEUS / "rules.test.yml")
CAPABILITY_RULES = (PROMETHEUS / "capability-rules.yml", PROMETHEUS / "capability-rules.test.yml")
PROMTOOL_TESTS = (
    "tests/integration/observability/test_rules.py::test_promtool_accepts_the_rules",
    "tests/integration/observability/test_rules.py::test_the_rules_pass_their_unit_tests",
    "tests/integration/test_observability_deploy_files.py::test_promtool_accepts_the_capability_rules",
    "tests/integration/test_observability_deploy_files.py::test_the_capability_rules_pass_their_unit_tests",
)
"""The project's own tests that run these two commands over these two pairs of files (the
service's rules in observability's group, the capabilities' in the service's tests, which read
what every capability adds): once both checks passed, tier 2 leaves them out (the probe confirms
they exist)."""


def promtool() -> str:
    found = os.environ.get("PROMTOOL_BIN") or shutil.which("promtool")
    assert found, "promtool is not installed: scripts/services installs it (Debian `prometheus`)"
    return found


def alert_rules_valid(project: Path, rules: Path, tests: Path) -> None:
    """`promtool check rules` and `promtool test rules`, when the project has the rules."""
    if not (project / rules).is_file():
        assert not (project / PROMETHEUS).is_dir(), f"{rules} is missing"
        return
    run([promtool(), "check", "rules", str(rules)], project)
    run([promtool(), "test", "rules", str(tests)], project)
