"""The matrix fails on exactly the combinations that use a broken file, and on no other.

A copy of the template gets a file with a syntax error that is rendered only when caching and
rate limiting are chosen together; the matrix (tier 1) then runs on that copy in a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from scaffold.matrix import combinations
from scaffold.template_source import packaged_template

ROOT = Path(__file__).resolve().parents[1]
TOGETHER = frozenset({"caching", "rate_limiting"})


def broken_copy(folder: Path) -> Path:
    template = folder / "template"
    shutil.copytree(packaged_template(), template)
    package = template / "project" / "src" / "{{ package_name }}"
    name = "{% if caching and rate_limiting %}broken_together.py{% endif %}"
    (package / name).write_text("def broken(:\n    pass\n", encoding="utf-8")
    return template


def test_only_the_combinations_with_both_capabilities_fail(tmp_path: Path) -> None:
    every = {s.label(): s.capabilities for s in combinations()}
    expected_failures = {label for label, caps in every.items() if caps >= TOGETHER}
    assert expected_failures, "needs caching and rate_limiting available together"
    assert len(expected_failures) < len(every)
    report_dir = tmp_path / "report"
    env = {
        **os.environ,
        "SCAFFOLD_MATRIX": "full",
        "SCAFFOLD_MATRIX_TEMPLATE": str(broken_copy(tmp_path)),
        "SCAFFOLD_MATRIX_TIERS": "static",
        "SCAFFOLD_MATRIX_REPORT": str(report_dir),
    }
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
         "tests/matrix"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    report = json.loads((report_dir / "report.json").read_text())
    results = {entry["id"]: entry["tier1"] for entry in report["combinations"]}
    assert set(results) == set(every)
    failed = {label for label, outcome in results.items() if outcome == "failed"}
    assert failed == expected_failures
    assert all(results[label] == "passed" for label in set(every) - expected_failures)
