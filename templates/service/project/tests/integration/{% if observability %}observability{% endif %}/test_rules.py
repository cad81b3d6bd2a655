"""The alert rules: promtool accepts them, their unit tests pass, and every alert is complete
(severity, summary, a `for`, a runbook section) and tested both firing and resolved."""

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from .conftest import RULE_TESTS, RULES, RUNBOOK


def promtool(binary: str, *arguments: str) -> str:
    done = subprocess.run(  # noqa: S603 (our own arguments; the binary is the user's)
        [binary, *arguments], capture_output=True, text=True, check=False, timeout=300
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def alerts() -> list[dict[str, Any]]:
    groups = [group for rules in RULES for group in load(rules)["groups"]]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


def test_promtool_accepts_the_rules(promtool_binary: str) -> None:
    output = promtool(promtool_binary, "check", "rules", *map(str, RULES))

    assert output.count("SUCCESS") == len(RULES), output


def test_the_rules_pass_their_unit_tests(promtool_binary: str) -> None:
    output = promtool(promtool_binary, "test", "rules", *map(str, RULE_TESTS))

    assert output.count("SUCCESS") == len(RULE_TESTS), output


def test_every_alert_has_severity_summary_wait_and_a_runbook_section() -> None:
    anchors = github_anchors(RUNBOOK.read_text(encoding="utf-8"))
    found = alerts()
    assert found

    for alert in found:
        name = alert["alert"]
        assert alert["labels"]["severity"] in {"page", "ticket"}, name
        assert alert["annotations"]["summary"], name
        assert alert.get("for"), f"{name} has no `for`"
        runbook = alert["annotations"]["runbook_url"]
        assert runbook.startswith("docs/runbook.md#"), name
        assert runbook.partition("#")[2] in anchors, f"{name}: no section {runbook} in the runbook"


def test_every_alert_is_tested_firing_and_resolved() -> None:
    tests = [test for file in RULE_TESTS for test in load(file)["tests"]]
    firing: set[str] = set()
    quiet: set[str] = set()
    for test in tests:
        for case in test.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])

    names = {alert["alert"] for alert in alerts()}
    assert names - firing == set(), "never tested firing"
    assert names - quiet == set(), "never tested quiet or resolved"
