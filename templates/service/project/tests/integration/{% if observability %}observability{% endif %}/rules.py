"""Checks of an alert rules file and its unit tests: the service's own rules (test_rules.py here)
and the capabilities' (the service's tests/integration/test_observability_deploy_files.py)."""

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from .servers import rule_groups


def promtool(binary: str, *arguments: str) -> str:
    done = subprocess.run(  # noqa: S603 (our own arguments; the binary is the user's)
        [binary, *arguments], capture_output=True, text=True, check=False, timeout=300
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def alerts(rules: Path) -> list[dict[str, Any]]:
    return [rule for group in rule_groups(rules) for rule in group["rules"] if "alert" in rule]


def assert_complete(alert: dict[str, Any]) -> None:
    """Severity, summary, a `for` and a link to a section of the runbook."""
    name = alert["alert"]
    assert alert["labels"]["severity"] in {"page", "ticket"}, name
    assert alert["annotations"]["summary"], name
    assert alert.get("for"), f"{name} has no `for`"
    assert alert["annotations"]["runbook_url"].startswith("docs/runbook.md#"), name


def untested(rules: Path, tests: Path) -> tuple[set[str], set[str]]:
    """The alerts of `rules` that its unit tests never see firing, and never quiet or resolved."""
    loaded: dict[str, Any] = yaml.safe_load(tests.read_text(encoding="utf-8"))
    firing: set[str] = set()
    quiet: set[str] = set()
    for test in loaded["tests"] or []:
        for case in test.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = {alert["alert"] for alert in alerts(rules)}
    return names - firing, names - quiet


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
