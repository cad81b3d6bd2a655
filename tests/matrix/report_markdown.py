"""The matrix report as markdown: one row per combination, then totals, readiness, reuse and
the projection to every combination of the full catalog."""

from __future__ import annotations

from typing import Any

from tests.matrix.report_modules import markdown_lines

NEAREST = " (each run at its nearest measured run)"


def _tier(tier: dict[str, Any]) -> str:
    outcome = str(tier["outcome"])
    if tier.get("reused_from"):
        outcome += f" (reused from `{tier['reused_from']}`)"
    return f"{outcome} | {tier['seconds']}"


def _interactions(entry: dict[str, Any]) -> str:
    tests = entry["tier2"].get("interactions") or []
    return "<br>".join(f"`{t['test']}` {t['outcome']}" for t in tests) or "-"


def _failed_checks(entry: dict[str, Any]) -> str:
    checks = entry["tier1"].get("checks", {})
    return ", ".join(n for n, c in checks.items() if c["outcome"] != "passed") or ""


def _covered(summary: dict[str, Any]) -> list[str]:
    """Which of the projects' own tests tier 1 made, so tier 2 left them out (static_tier)."""
    runs: dict[str, int] = {}
    for entry in summary["combinations"]:
        for test in entry["tier2"].get("covered_by_tier_1") or []:
            runs[test] = runs.get(test, 0) + 1
    return [
        f"Made by tier 1, left out of tier 2: `{test}` in {count} combinations."
        for test, count in sorted(runs.items())
    ] + ([""] if runs else [])


def _assumed(projected: dict[str, Any]) -> str:
    assumed = projected.get("assumed_for") or []
    return f" (assumed for {', '.join(f'`{p}`' for p in assumed)})" if assumed else ""


def _additivity(rows: list[dict[str, Any]]) -> list[str]:
    """How far the additive model is from what combinations of several capabilities cost."""
    if not rows:
        return []
    return [
        "| combination of several | CPU-s measured | CPU-s by the additive model | tier 2 |",
        "|---|---|---|---|",
        *(
            f"| `{r['id']}` | {r['cpu_seconds']} | {r['predicted_cpu_seconds']} | {r['tier2']} |"
            for r in rows
        ),
        "",
    ]


def _services_phase(phases: dict[str, float]) -> str:
    if "services" not in phases:
        return (
            "the backing services' CPU not projected (not measured, or the run ran more than "
            "the matrix); "
        )
    return f"the backing services {phases['services']} (at the run's share of tier 2); "


def distinct_lines(projected: dict[str, Any]) -> list[str]:
    """The projection by distinct inputs (projection_distinct.py)."""
    n = projected["combinations"]
    phases = projected["cpu_seconds_by_phase"]
    beyond = projected["median_beyond_parts_cpu_seconds"]
    lines = [
        f"Projection by distinct inputs over {n} combinations (tests/matrix/projection_distinct"
        ".py):",
        "",
        "| tier 1 check | runs (distinct keys) | median CPU-s | median CPU-s reused | CPU-s |",
        "|---|---|---|---|---|",
        *(
            f"| {r['check']} | {r['runs']}{'' if r['keyed'] else ' (not keyed)'} "
            f"| {r['median_cpu_seconds']} | {r['median_reused_cpu_seconds']} "
            f"| {r['cpu_seconds']} |"
            for r in projected["tier1"]
        ),
        "",
        "| tier 2 part | measured runs (reusable) | stored manifests | paths read | in "
        "combinations | runs (distinct states) | median CPU-s | CPU-s |",
        "|---|---|---|---|---|---|---|---|",
        *(
            f"| {r['part']} | {r['measured_runs']} ({r['reusable_runs']}) | {r['stored_runs']} "
            f"| {r['paths_read']} | {r['present']} "
            f"| {r['runs']}{'' if r['reused'] else ' (never reused)'} "
            f"| {r['median_cpu_seconds']} | {r['cpu_seconds']}"
            f"{NEAREST if r.get('costed_by_nearest_run') else ''} |"
            for r in projected["tier2"]
        ),
        "",
        *(
            f"- {r['part']} ({r['runs']} runs) is split most by: "
            + ", ".join(f"`{path}` ({states} states)" for path, states in r["split_by"])
            for r in projected["tier2"]
            if r.get("split_by")
        ),
        "",
        f"CPU-s by phase: render {phases['render']} ({projected['median_render_cpu_seconds']} "
        f"per combination), tier 1 {phases['tier1']}, tier 2 {phases['tier2']} (beyond checks "
        f"and parts, per combination: tier 1 {beyond['tier1']}, tier 2 {beyond['tier2']}); "
        f"{_services_phase(phases)}"
        f"total {projected['cpu_seconds']} CPU-s: "
        f"{projected['matrix_wall_seconds_if_cpu_bound'] / 60:.1f} min if CPU-bound on "
        f"{min(projected['workers'], projected['cores'])} cores; "
        f"{projected['wall_seconds'] / 60:.1f} min at this run's "
        f"{projected['cpu_per_worker_second']} CPU-s per worker-second on "
        f"{projected['workers']} workers, with {projected['rest_of_session_seconds']} s of the "
        "rest of the session.",
    ]
    full = projected.get("full_catalog_combinations", n)
    if n < full:
        lines.append(
            f"Only the {n} combinations offered today were rendered, of the full catalog's "
            f"{full}: flip the others on locally to project them all (docs/development.md)."
        )
    if projected["unmeasured"]:
        lines.append(
            f"Not measured in this run (counted 0 CPU-s): {', '.join(projected['unmeasured'])}."
        )
    return [*lines, ""]


def markdown(summary: dict[str, Any]) -> str:
    totals = summary["totals"]
    lines = [
        "| combination | tier 1 | s | tier 2 | s | interaction tests | failed checks |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| `{e['id']}` | {_tier(e['tier1'])} | {_tier(e['tier2'])} "
            f"| {_interactions(e)} | {_failed_checks(e)} |"
            for e in summary["combinations"]
        ),
        "",
        "| capability | combinations | ran | passed | ready |",
        "|---|---|---|---|---|",
        *(
            f"| `{name}` | {r['combinations']} | {r['ran']} | {r['passed']} "
            f"| {'yes' if r['ready'] else 'no'} |"
            for name, r in summary["readiness"].items()
        ),
        "",
        "| reused work | ran | reused | seconds saved |",
        "|---|---|---|---|",
        *(
            f"| {name} | {c['ran']} | {c['reused']} | {c['saved_seconds']} |"
            for name, c in sorted(summary["reuse"].items())
        ),
        "",
        "| tier 1 check | ran | median s when it ran | total s | median CPU-s | total CPU-s |",
        "|---|---|---|---|---|---|",
        *(
            f"| {name} | {c['ran']} | {c['median_seconds']} | {c['total_seconds']} "
            f"| {c.get('median_cpu_seconds', '')} | {c.get('total_cpu_seconds', '')} |"
            for name, c in summary.get("checks", {}).items()
        ),
        "",
    ]
    lines += markdown_lines(summary.get("test_modules", []))
    lines += _covered(summary)
    projected = summary["projection"]
    if projected.get("ran_every_combination"):
        lines.append(
            f"Every one of the {projected['combinations']} combinations ran in this session: "
            f"{projected['measured_wall_seconds'] / 60:.1f} min measured, on "
            f"{projected['workers']} workers (the models below for comparison)."
        )
        lines.append("")
    lines.append(
        f"Projection to all {projected['combinations']} combinations on {projected['workers']} "
        f"workers: {projected['wall_seconds'] / 60:.1f} min by the additive model "
        f"({projected['wall_seconds_by_median'] / 60:.1f} min by the median), of which "
        f"{projected['rest_of_session_seconds']} s is the rest of this session; base "
        f"{projected['base_seconds']} s, marginal s per capability "
        f"{projected['marginal_seconds']}, unmeasured ones assumed "
        f"{projected['assumed_marginal_seconds']} s"
        f"{_assumed(projected)}. CPU: median "
        f"{projected['cpu_median_seconds']} s per combination, base "
        f"{projected.get('base_cpu_seconds')} s, marginal CPU-s per capability "
        f"{projected.get('marginal_cpu_seconds')}, "
        f"{projected['matrix_wall_seconds_if_cpu_bound'] / 60:.1f} min for all if CPU-bound "
        f"on {min(projected['workers'], projected.get('cores', projected['workers']))} cores. "
        "Formula: tests/matrix/projection.py."
    )
    lines.append("")
    lines += _additivity(projected.get("additivity") or [])
    if "projection_by_distinct_inputs" in summary:
        lines += distinct_lines(summary["projection_by_distinct_inputs"])
    lines.append(
        f"{totals['combinations']} combinations: {totals['passed']} passed, "
        f"{totals['failed']} failed; wall {totals['wall_seconds']} s on {totals['workers']} "
        f"workers, {totals['worker_seconds']} worker-s, {totals['cpu_seconds']} CPU-s; "
        f"per combination median "
        f"{totals['median_seconds_per_combination']} s, "
        f"p90 {totals['p90_seconds_per_combination']} s (after each worker's first: median "
        f"{totals['warm_median_seconds_per_combination']} s, "
        f"p90 {totals['warm_p90_seconds_per_combination']} s)"
    )
    if "median_render_seconds" in totals:
        lines.append("")
        lines.append(
            f"Per combination, median: render {totals['median_render_seconds']} s "
            f"({totals['median_render_cpu_seconds']} CPU-s), tier 1 after each worker's first "
            f"{totals['median_tier1_seconds']} s ({totals['median_tier1_cpu_seconds']} CPU-s)."
        )
    if totals.get("services_cpu_seconds") is not None:
        scope = "this run" if totals.get("session_ran_only_the_matrix") else "the whole session"
        lines.append("")
        lines.append(
            f"The backing services used {totals['services_cpu_seconds']} CPU-s over {scope} "
            f"({totals['services_cpu_seconds_by_service']}), beyond the CPU-s above."
        )
    return "\n".join(lines) + "\n"
