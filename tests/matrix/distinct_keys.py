"""How much tier 1 work the whole matrix holds: render every combination, compute each keyed
check's reuse key on it, and count the distinct keys (the runs a full matrix makes, whatever
its order). With a report of a run (its CPU-s per check when it ran), that gives tier 1's CPU
for all combinations by distinct keys: unkeyed checks run in every combination, keyed ones once
per distinct key (per worker at worst, when two workers race on one key, which this does not
count). The projection by distinct inputs (projection_distinct.py) counts the same, with tier 2
and the reuses' cost, over every combination; this one follows the run's selection.

    python -m tests.matrix.distinct_keys [--report REPORT.json] [--json OUT.json]

Renders into a temporary folder (about half a CPU-second per combination, on up to two cores:
projection_facts.py), under the same mode and variables as the matrix (SCAFFOLD_MATRIX,
SCAFFOLD_MATRIX_ONLY, a local catalog flip).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tests.matrix.mode import selected
from tests.matrix.projection_distinct import Distinct
from tests.matrix.projection_facts import facts_in_order, workers
from tests.matrix.shared_env import VENV


def distinct_keys(template: str | None = None) -> dict[str, Any]:
    """Per check, the combinations and the distinct keys among them (None: not keyed)."""
    python = VENV / "bin" / "python"
    distinct = Distinct({}, python)
    for facts in facts_in_order(selected(None), distinct.paths, python, template, workers()):
        distinct.add(facts)
    counts = distinct.counts()
    return {"combinations": counts["combinations"], "checks": counts["checks"]}


def projection(counts: dict[str, Any], report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per check: its runs in the whole matrix and their CPU-s at the report's median."""
    measured = report.get("checks", {})
    rows = []
    for name, distinct in counts["checks"].items():
        runs = counts["combinations"] if distinct is None else distinct
        median = float(measured.get(name, {}).get("median_cpu_seconds", 0.0))
        cost = round(runs * median, 1)
        rows.append({"check": name, "runs": runs, "keyed": distinct is not None,
                     "median_cpu_seconds": median, "cpu_seconds": cost})  # fmt: skip
    return rows


def markdown(counts: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    lines = [
        f"Tier 1 by distinct keys over {counts['combinations']} combinations:",
        "",
        "| tier 1 check | runs (distinct keys) | median CPU-s | CPU-s |",
        "|---|---|---|---|",
        *(
            f"| {r['check']} | {r['runs']}{'' if r['keyed'] else ' (not keyed)'} "
            f"| {r['median_cpu_seconds']} | {r['cpu_seconds']} |"
            for r in rows
        ),
    ]
    total = sum(r["cpu_seconds"] for r in rows)
    lines.append(f"\nTotal {total:.0f} CPU-s, {total / 120:.1f} min on 2 cores if CPU-bound.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="report.json of a run (CPU-s per check)")
    parser.add_argument("--json", type=Path, help="write the counts here")
    parser.add_argument("--template", help="another template (as SCAFFOLD_MATRIX_TEMPLATE)")
    options = parser.parse_args()
    counts = distinct_keys(options.template)
    if options.json:
        options.json.write_text(json.dumps(counts, indent=2), encoding="utf-8")
    if options.report:
        report = json.loads(options.report.read_text(encoding="utf-8"))
        print(markdown(counts, projection(counts, report)))
    else:
        print(json.dumps(counts, indent=2))


if __name__ == "__main__":
    main()
