"""Tier 1 by distinct keys: a keyed check runs once per distinct key, an unkeyed one in every
combination, each at the median CPU-s the report measured for it."""

from __future__ import annotations

from tests.matrix.distinct_keys import markdown, projection

COUNTS = {"combinations": 10, "checks": {"ruff": None, "terraform plan": 4, "hadolint": 1}}
REPORT = {
    "checks": {
        "ruff": {"median_cpu_seconds": 0.2},
        "terraform plan": {"median_cpu_seconds": 6.5},
    }
}


def test_keyed_checks_count_once_per_key_and_unkeyed_ones_every_time() -> None:
    rows = {row["check"]: row for row in projection(COUNTS, REPORT)}
    assert rows["ruff"] == {
        "check": "ruff", "runs": 10, "keyed": False, "median_cpu_seconds": 0.2, "cpu_seconds": 2.0,
    }  # fmt: skip
    assert rows["terraform plan"]["runs"] == 4 and rows["terraform plan"]["cpu_seconds"] == 26.0
    assert rows["hadolint"]["cpu_seconds"] == 0.0  # not measured in the report: 0, not guessed
    text = markdown(COUNTS, list(rows.values()))
    assert "| ruff | 10 (not keyed) | 0.2 | 2.0 |" in text
    assert "Total 28 CPU-s" in text
