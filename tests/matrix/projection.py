"""From the combinations measured in this run to the wall time of every combination the whole
catalog will allow (288 with eight capabilities), on the same number of workers.

The cost of a combination is the worker-seconds it took: render + tier 1 + tier 2. The first
combination a worker runs also fills the worker's caches in tier 1 (mypy's above all); that
one-time cost is not a cost per combination, so a "cold" combination's tier 1 counts as the
median tier 1 of the warm ones (its surplus stays in the rest of the session). The model is
additive: cost(C) = base + sum of m(c) for c in C, where
- base is the measured cost of the base combination (else the cheapest one measured);
- a "part" is a capability with its variants' choices, as in a label (``messaging[kafka]``);
  m(p), a part's marginal cost, is the mean of cost(S + p) - cost(S) over every pair of
  measured combinations that differ by p alone;
- a part never measured is assumed to cost what the measured parts of the same capability cost
  on average (another broker), else the mean of every measured part's marginal cost (a negative
  estimate, which noise can give, counts 0). ``assumed_for`` names the parts that were assumed:
  a capability not available yet is measured by flipping it on locally for a sample run (see
  docs/development.md), so that its marginal cost is measured rather than assumed.
The fit is checked on the measured combinations of two capabilities or more that no pair
used (none of their one-smaller subsets was measured): ``additivity`` lists each one's measured
CPU seconds next to the model's.
Projected matrix worker-seconds = sum of cost(C) over every combination of the catalog with all
capabilities available. The projected wall time replaces this run's matrix share of the wall
time by the projected one:
    projected wall = measured wall - measured worker-seconds / workers
                     + projected worker-seconds / workers
so the rest of the session (set-up, the tool's other tests when they ran in the same session)
is carried over as measured. Also given: the median rule, count x median / workers + the same
rest; and, since wall time on a machine shared with other work says little, the same additive
model over each combination's CPU seconds (the worker, the programs it ran, the forked
children; not the database servers), divided by the cores the workers can use (the fewer of the
workers and the machine's cores): the matrix's wall time on an idle machine if it were
CPU-bound, a lower bound. Reuse is not extrapolated: with more
combinations, more of them share inputs, so the projections count reused work at this run's
rate, which errs on the slow side; and a part never measured is assumed, which for a
capability heavier than the measured ones errs on the fast side. The projection by distinct
inputs (projection_distinct.py, asked for with SCAFFOLD_MATRIX_DISTINCT=1 or run afterwards on
the report) counts instead each tier 1 check once per distinct key and each tier 2 part (test
group, migrate+boot) once per distinct state of what its runs read, over a render of every
combination, at the CPU-s this run measured for each.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from scaffold.catalog import CATALOG
from scaffold.matrix import combinations

EVERY_CAPABILITY = replace(
    CATALOG, capabilities=tuple(replace(c, available=True) for c in CATALOG.capabilities)
)


Cost = Callable[[dict[str, Any]], float]
PHASES = ("render", "tier1", "tier2")


def wall_phases(entry: dict[str, Any]) -> dict[str, float]:
    """Worker-seconds per phase: what the combination took on its worker."""
    return {
        "render": float(entry["render_seconds"]),
        "tier1": float(entry["tier1"]["seconds"]),
        "tier2": float(entry["tier2"]["seconds"]),
    }


def cpu_phases(entry: dict[str, Any]) -> dict[str, float]:
    """CPU seconds per phase (the worker, its programs, the fork server's children)."""
    found = entry.get("cpu") or {}
    return {phase: float(found.get(phase, 0.0)) for phase in PHASES}


def cost(entry: dict[str, Any]) -> float:
    return sum(wall_phases(entry).values())


def cpu(entry: dict[str, Any]) -> float:
    return sum(cpu_phases(entry).values())


def warm(
    entries: list[dict[str, Any]], phases: Callable[[dict[str, Any]], dict[str, float]]
) -> Cost:
    """The cost with a cold combination's tier 1 (which filled the worker's caches) replaced by
    the median tier 1 of the warm ones (or the smallest tier 1 measured, if none is warm)."""
    warm_tier1 = [phases(e)["tier1"] for e in entries if not e.get("cold")]
    usual = (
        statistics.median(warm_tier1) if warm_tier1 else min(phases(e)["tier1"] for e in entries)
    )

    def measure(entry: dict[str, Any]) -> float:
        parts = phases(entry)
        if entry.get("cold"):
            parts["tier1"] = min(parts["tier1"], usual)
        return sum(parts.values())

    return measure


def parts(capabilities: Iterable[str], variants: Mapping[str, str]) -> frozenset[str]:
    """Each capability with its variants' choices, as a label spells it (``messaging[kafka]``);
    the bare name where the choices are not recorded."""
    found = set()
    for name in capabilities:
        capability = EVERY_CAPABILITY.get(name)
        keys = [capability.answer_key(v) for v in capability.variants] if capability else []
        chosen = [variants[k] for k in keys if k in variants]
        found.add(name + (f"[{','.join(chosen)}]" if keys and len(chosen) == len(keys) else ""))
    return frozenset(found)


def entry_parts(entry: dict[str, Any]) -> frozenset[str]:
    return parts(entry["capabilities"], entry.get("variants") or {})


def capability_of(part: str) -> str:
    return part.split("[", 1)[0]


def marginal_costs(entries: list[dict[str, Any]], measure: Cost = cost) -> dict[str, float]:
    by_set: dict[frozenset[str], list[float]] = {}
    for entry in entries:
        by_set.setdefault(entry_parts(entry), []).append(measure(entry))
    mean = {caps: statistics.fmean(costs) for caps, costs in by_set.items()}
    found: dict[str, list[float]] = {}
    for caps, value in mean.items():
        for capability in caps:
            smaller = caps - {capability}
            if smaller in mean:
                found.setdefault(capability, []).append(value - mean[smaller])
    return {name: statistics.fmean(diffs) for name, diffs in found.items()}


def additive(entries: list[dict[str, Any]], measure: Cost) -> dict[str, Any]:
    """The fitted model, and its sum over every combination of the full catalog."""
    costs = [measure(e) for e in entries]
    median = statistics.median(costs)
    base_costs = [measure(e) for e in entries if not e["capabilities"]]
    base = statistics.fmean(base_costs) if base_costs else min(costs)
    measured = {k: max(0.0, v) for k, v in marginal_costs(entries, measure).items()}
    assumed = statistics.fmean(measured.values()) if measured else max(0.0, median - base)
    every = combinations(EVERY_CAPABILITY)
    assumed_for: set[str] = set()

    def marginal(part: str) -> float:
        if part in measured:
            return measured[part]
        assumed_for.add(part)
        same = [v for k, v in measured.items() if capability_of(k) == capability_of(part)]
        return statistics.fmean(same) if same else assumed

    def predict(found: frozenset[str]) -> float:
        return base + sum(marginal(part) for part in found)

    total = sum(predict(parts(s.capabilities, s.variants)) for s in every)
    return {"median": median, "base": base, "measured": measured, "assumed": assumed,
            "assumed_for": sorted(assumed_for), "count": len(every), "total": total,
            "predict": predict}  # fmt: skip


def additivity(entries: list[dict[str, Any]], model: dict[str, Any], measure: Cost) -> list[Any]:
    """Measured next to predicted CPU seconds, for the combinations of several capabilities
    that determined no marginal cost (a pair's larger side agrees with the model by
    construction), with tier 2's outcome: a tier 2 killed at its time-out counts only what it
    had used."""
    measured = {entry_parts(e) for e in entries}

    def fitted(found: frozenset[str]) -> bool:
        return any(found - {part} in measured for part in found)

    return [
        {"id": e["id"], "cpu_seconds": round(measure(e), 1),
         "predicted_cpu_seconds": round(model["predict"](entry_parts(e)), 1),
         "tier2": e["tier2"]["outcome"]}
        for e in entries
        if len(e["capabilities"]) > 1 and not fitted(entry_parts(e))
    ]  # fmt: skip


def project(entries: list[dict[str, Any]], wall: float, workers: int, cores: int) -> dict[str, Any]:
    on_wall = warm(entries, wall_phases)
    model = additive(entries, on_wall)
    median, base, measured = model["median"], model["base"], model["measured"]
    assumed = model["assumed"]
    projected, count = model["total"], model["count"]
    on_cpu_cost = warm(entries, cpu_phases)
    on_cpu = additive(entries, on_cpu_cost)
    rest = max(0.0, wall - sum(on_wall(e) for e in entries) / workers)
    every = {s.label() for s in combinations(EVERY_CAPABILITY)}
    return {
        "combinations": count,
        # When the session ran all of them, its wall time is the measurement, not a model's.
        "ran_every_combination": every <= {e["id"] for e in entries},
        "measured_wall_seconds": round(wall, 1),
        "workers": workers,
        "cores": cores,
        "base_seconds": round(base, 2),
        "marginal_seconds": {k: round(v, 2) for k, v in sorted(measured.items())},
        "assumed_marginal_seconds": round(assumed, 2),
        "assumed_for": model["assumed_for"],
        "base_cpu_seconds": round(on_cpu["base"], 2),
        "marginal_cpu_seconds": {k: round(v, 2) for k, v in sorted(on_cpu["measured"].items())},
        "assumed_marginal_cpu_seconds": round(on_cpu["assumed"], 2),
        "additivity": additivity(entries, on_cpu, on_cpu_cost),
        "rest_of_session_seconds": round(rest, 1),
        "worker_seconds": round(projected, 1),
        "wall_seconds": round(rest + projected / workers, 1),
        "wall_seconds_by_median": round(rest + count * median / workers, 1),
        "cpu_median_seconds": round(on_cpu["median"], 2),
        "cpu_seconds": round(on_cpu["total"], 1),
        "matrix_wall_seconds_if_cpu_bound": round(on_cpu["total"] / min(workers, cores), 1),
    }
