"""Per-combination results of the matrix, merged across xdist workers (and CI shards) into
report.json and report.md.

Each worker appends one JSON line per combination to ``results-<worker>.jsonl``; the xdist
controller merges them at the end of the session (plugin.py), and ``python -m
tests.matrix.merge`` merges the folders of several CI shards.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from scaffold.catalog import CATALOG
from scaffold.matrix import combinations
from tests.matrix import projection
from tests.matrix.report_markdown import markdown
from tests.matrix.report_modules import module_costs

OUT = Path(
    os.environ.get("SCAFFOLD_MATRIX_REPORT")
    or Path(__file__).resolve().parents[2] / "build" / "matrix"
)
REUSE = OUT / "reuse"
GROUP_ROW = "tier 2 group: "
DISTINCT_VARIABLE = "SCAFFOLD_MATRIX_DISTINCT"
"""1: the report adds the projection by distinct inputs (projection_distinct.py)."""


def record(entry: dict[str, Any]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with (OUT / f"results-{worker}.jsonl").open("a", encoding="utf-8") as sink:
        sink.write(json.dumps(entry) + "\n")


def reset() -> None:
    for stale in OUT.glob("results-*.jsonl"):
        stale.unlink()
    shutil.rmtree(REUSE, ignore_errors=True)


def read_entries(folder: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for part in sorted(folder.glob("results-*.jsonl"))
        for line in part.read_text(encoding="utf-8").splitlines()
    ]


def passed(entry: dict[str, Any]) -> bool:
    return bool(entry["tier1"]["outcome"] == "passed" and entry["tier2"]["outcome"] == "passed")


def readiness(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A capability is ready only when it passed, both tiers, in every combination it can
    appear in: all of them must have run."""
    by_id = {e["id"]: e for e in entries}
    found: dict[str, dict[str, Any]] = {}
    for capability in CATALOG.available:
        wanted = [s.label() for s in combinations() if capability.name in s.capabilities]
        ran = [by_id[label] for label in wanted if label in by_id]
        good = sum(1 for e in ran if passed(e))
        found[capability.name] = {
            "combinations": len(wanted),
            "ran": len(ran),
            "passed": good,
            "ready": len(ran) == len(wanted) and good == len(wanted),
        }
    return found


def phase_medians(entries: list[dict[str, Any]]) -> dict[str, float]:
    """The median seconds (wall and CPU) of rendering and of tier 1 per combination; tier 1 over
    the warm combinations only (a worker's first one fills its caches), when there are any."""
    warm = [e for e in entries if not e.get("cold")] or entries
    found: dict[str, float] = {}
    for name, phases in (("", projection.wall_phases), ("cpu_", projection.cpu_phases)):
        found[f"median_render_{name}seconds"] = _median(phases(e)["render"] for e in entries)
        found[f"median_tier1_{name}seconds"] = _median(phases(e)["tier1"] for e in warm)
    return found


def check_seconds(entries: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per tier 1 check: how often it ran (not reused), the median and total seconds (wall and
    CPU) when it did: what each check costs, the input of any projection by distinct inputs."""
    ran: dict[str, list[tuple[float, float]]] = {}
    for entry in entries:
        for name, check in entry["tier1"].get("checks", {}).items():
            if not check.get("reused_from"):
                cost = (float(check["seconds"]), float(check.get("cpu_seconds", 0.0)))
                ran.setdefault(name, []).append(cost)
    return {
        name: {"ran": len(costs), "median_seconds": _median(wall for wall, _ in costs),
               "total_seconds": round(sum(wall for wall, _ in costs), 1),
               "median_cpu_seconds": _median(cpu for _, cpu in costs),
               "total_cpu_seconds": round(sum(cpu for _, cpu in costs), 1)}
        for name, costs in sorted(ran.items())
    }  # fmt: skip


def _median(values: Iterable[float]) -> float:
    found = list(values)
    return round(statistics.median(found), 2) if found else 0.0


def reuse_counts(entries: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per keyed check (and tier 2): how often it ran, how often it was reused, seconds saved."""
    counts: dict[str, dict[str, float]] = {}

    def count(name: str, reused: bool, seconds: float) -> None:
        slot = counts.setdefault(name, {"ran": 0, "reused": 0, "saved_seconds": 0.0})
        slot["reused" if reused else "ran"] += 1
        if reused:
            slot["saved_seconds"] = round(slot["saved_seconds"] + seconds, 2)

    for entry in entries:
        for name, check in entry["tier1"].get("checks", {}).items():
            if check.get("keyed"):
                count(name, check["reused_from"] is not None, check.get("source_seconds", 0.0))
        for name, files in entry["tier1"].get("files_reused", {}).items():
            slot = counts.setdefault(f"{name} (files)", {"ran": 0, "reused": 0, "saved_seconds": 0})
            slot["reused"] += files
        tier2 = entry["tier2"]
        if tier2["outcome"] != "not run":
            whole = "tier 2 (whole combination)"
            count(whole, tier2.get("reused_from") is not None, tier2.get("source_seconds", 0.0))
        for name, part in _tier_two_parts(tier2):
            reused = part["reused_from"] is not None
            count(name, reused, part["seconds"])
            if name.startswith(GROUP_ROW):
                count("tier 2 (groups)", reused, part["seconds"])
    provider_seconds: dict[str, float] = {}
    for entry in entries:
        for method, answers in entry["tier1"].get("provider_answers", {}).items():
            name = f"terraform provider {method} (calls)"
            slot = counts.setdefault(name, {"ran": 0, "reused": 0, "saved_seconds": 0.0})
            slot["ran"] += answers["ran"]
            slot["reused"] += answers["reused"]
            provider_seconds[name] = provider_seconds.get(name, 0.0) + answers["provider_seconds"]
    for name, seconds in provider_seconds.items():
        # A reused answer saves what the provider took for an answer, on average.
        slot = counts[name]
        slot["saved_seconds"] = round(slot["reused"] * seconds / max(slot["ran"], 1), 2)
    return counts


def _tier_two_parts(tier2: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Tier 2's reusable parts (runtime_checks.py): each test group, migrating and booting."""
    groups = [(f"{GROUP_ROW}{n}", p) for n, p in sorted((tier2.get("groups") or {}).items())]
    start = [(f"tier 2 {n}", p) for n, p in sorted((tier2.get("start") or {}).items())]
    return groups + start


def summarise(
    entries: list[dict[str, Any]],
    wall_seconds: float,
    services: dict[str, float] | None = None,
    matrix_only: bool = False,
) -> dict[str, Any]:
    entries = sorted(entries, key=lambda e: str(e["id"]))
    costs = sorted(projection.cost(e) for e in entries)
    warm = sorted(projection.cost(e) for e in entries if not e.get("cold")) or costs
    good = sum(1 for e in entries if passed(e))
    workers = max(int(e.get("workers", 1)) for e in entries)
    totals = {
        "combinations": len(entries),
        "passed": good,
        "failed": len(entries) - good,
        "wall_seconds": round(wall_seconds, 1),
        "worker_seconds": round(sum(costs), 1),
        "cpu_seconds": round(sum(projection.cpu(e) for e in entries), 1),
        "median_cpu_seconds_per_combination": round(
            statistics.median(projection.cpu(e) for e in entries), 1
        ),
        "median_seconds_per_combination": round(statistics.median(costs), 1),
        "p90_seconds_per_combination": _p90(costs),
        "warm_median_seconds_per_combination": round(statistics.median(warm), 1),
        "warm_p90_seconds_per_combination": _p90(warm),
        "workers": workers,
        **phase_medians(entries),
        # The backing services' CPU over the session (services_cpu.py): the matrix's own only
        # when the session ran nothing else.
        "services_cpu_seconds": round(sum((services or {}).values()), 1) if services else None,
        "services_cpu_seconds_by_service": services or {},
        "session_ran_only_the_matrix": matrix_only,
    }
    return {
        "totals": totals,
        "readiness": readiness(entries),
        "reuse": reuse_counts(entries),
        "test_modules": module_costs(entries),
        "checks": check_seconds(entries),
        "projection": projection.project(entries, wall_seconds, workers, os.cpu_count() or 1),
        "combinations": entries,
    }


def _p90(ordered: list[float]) -> float:
    """The nearest-rank 90th percentile."""
    return round(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)], 1)


def write(summary: dict[str, Any], folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    text = markdown(summary)
    (folder / "report.md").write_text(text, encoding="utf-8")
    return text


def merge(
    wall_seconds: float, services: dict[str, float] | None = None, matrix_only: bool = False
) -> str | None:
    """Write report.json and report.md; return the markdown, or None when nothing ran."""
    entries = read_entries(OUT)
    if not entries:
        return None
    summary = summarise(entries, wall_seconds, services, matrix_only)
    if os.environ.get(DISTINCT_VARIABLE, "0") == "1":
        # Renders every combination (about half a CPU-second each): asked for, not by default.
        from tests.matrix import projection_distinct

        template = os.environ.get("SCAFFOLD_MATRIX_TEMPLATE")
        distinct = projection_distinct.measure(summary, REUSE, template)
        summary["projection_by_distinct_inputs"] = distinct
    return write(summary, OUT)
