"""Tier 1 for combinations with `observability`: promtool accepts the generated alert rules,
and their unit tests pass (both static: no service runs)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.matrix.static_checks import run

RULES = Path("deploy/observability/prometheus/rules.yml")
RULE_TESTS = Path("deploy/observability/prometheus/rules.test.yml")


def promtool() -> str:
    found = os.environ.get("PROMTOOL_BIN") or shutil.which("promtool")
    assert found, "promtool is not installed: scripts/services installs it (Debian `prometheus`)"
    return found


def alert_rules_valid(project: Path) -> None:
    """`promtool check rules` and `promtool test rules`, when the project has rules."""
    if not (project / RULES).is_file():
        return
    run([promtool(), "check", "rules", str(RULES)], project)
    run([promtool(), "test", "rules", str(RULE_TESTS)], project)
