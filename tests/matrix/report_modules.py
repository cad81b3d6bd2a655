"""Where tier 2's time goes: each generated test module's seconds across the combinations that
ran it (from the matrix probe's ``module_seconds``). Reused tier-2 results are left out: their
seconds were spent once, by the combination they were reused from."""

from __future__ import annotations

import statistics
from typing import Any

SHOWN = 15
"""Rows in the markdown table; report.json has every module."""


def module_costs(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per test module: the combinations it ran in, total and median seconds; costliest first."""
    seen: dict[str, list[float]] = {}
    for entry in entries:
        tier2 = entry["tier2"]
        if tier2.get("reused_from"):
            continue
        for module, seconds in (tier2.get("module_seconds") or {}).items():
            seen.setdefault(module, []).append(float(seconds))
    rows = [
        {
            "module": module,
            "combinations": len(spent),
            "total_seconds": round(sum(spent), 2),
            "median_seconds": round(statistics.median(spent), 2),
        }
        for module, spent in seen.items()
    ]
    return sorted(rows, key=lambda row: (-row["total_seconds"], row["module"]))


def markdown_lines(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    total = sum(row["total_seconds"] for row in rows) or 1.0
    return [
        f"| costliest test modules (of {len(rows)}) | combinations | s total | % of tests "
        "| median s |",
        "|---|---|---|---|---|",
        *(
            f"| `{r['module']}` | {r['combinations']} | {r['total_seconds']} "
            f"| {100 * r['total_seconds'] / total:.1f} | {r['median_seconds']} |"
            for r in rows[:SHOWN]
        ),
        "",
    ]
