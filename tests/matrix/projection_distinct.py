"""The projection by distinct inputs: what a run of every combination costs when work whose
inputs are identical runs once, as the harness reuses it (reuse.py), from a run's report and
reuse store and a render of every combination.

The additive model (projection.py) counts reused work at the sample's rate. Here each piece of
work is counted as often as its inputs differ across all the combinations:
- tier 1: a keyed check runs once per distinct key (static_tier.check_key) among the
  combinations, an unkeyed one in every combination; each run at the check's median CPU-s when
  it ran in the sample, each reuse at its median CPU-s when it was reused (computing the key);
- tier 2: a part (a test group, runtime_groups.py, or migrating and booting) is replayed as the
  store does it (reuse.Store.find): the combinations are taken in order, and one reuses an
  earlier run when the paths that run read (its manifest, reuse.py: a file's bytes, a folder's
  names, a probed path's kind) are in the same state in its tree; otherwise it runs, and what
  it reads is taken to be what the stored run of the nearest measured combination read (fewest
  capabilities or variants apart; the run's ``source``). Each run at the CPU-s that stored
  run measured (a part costs more with more capabilities around it: the median of a sample of
  mostly small combinations undercounts the large ones, most of the 288), else at the part's
  median CPU-s when it ran; a part with no stored manifest (never reusable: a run not fully
  traced) runs in every combination that has it;
- render: every combination, at the sample's median;
- what the tiers cost beyond their checks and parts (looking results up, the combination's
  database, tier 1's bookkeeping): every combination, at the sample's median of the phase's CPU
  minus what its checks or parts cost.
A part's count is only as good as the sample: a file that only a capability absent from every
measured run of the part makes it read (a partner's module imported when present) is in no
manifest, so combinations differing only there count as one; a combination far from every
measured one borrows a manifest that may read more or less than its own run would. The report
lists each part's measured runs and stored manifests: measure every capability (a local flip,
see docs/development.md), with a sample spread over the partners, before trusting the counts.
Two workers racing on one key both run it; that is not counted.

Wall time on the run's cores if CPU-bound: projected CPU-s / min(workers, cores). Adjusted for
utilisation: projected CPU-s / (this run's CPU-s per worker-second) / workers, plus the rest of
the session as the additive model carries it (set-up, other tests).

    python -m tests.matrix.projection_distinct REPORT.json [--store DIR] [--write]

renders every combination the catalog allows (about half a CPU-second each, on up to two
cores: projection_facts.py) under the catalog as it is here: with a capability not offered yet
flipped on locally, the 288 of the full catalog. --store defaults to the reuse folder beside the
report; --write adds the projection to report.json and report.md. A matrix run computes it
itself when SCAFFOLD_MATRIX_DISTINCT=1.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from scaffold.matrix import combinations
from tests.matrix.projection import EVERY_CAPABILITY, cpu_phases
from tests.matrix.projection_facts import Facts, Paths, facts_in_order, facts_of, workers
from tests.matrix.report_markdown import distinct_lines
from tests.matrix.reuse import Manifest, key_of, probe_token, read_token, view_token
from tests.matrix.static_tier import CHECKS

PART_KINDS = ("runtime-group", "runtime-start")
"""The reuse store's folders of tier 2 parts (runtime_parts.py)."""


@dataclass(frozen=True)
class Stored:
    """One stored run of a part: the combination that ran it and what it read."""

    source: str
    manifest: Manifest


def stored_runs(store: Path) -> dict[str, list[Stored]]:
    """Per tier 2 part (as its stored results name it): its stored runs, in a stable order."""
    found: dict[str, list[Stored]] = defaultdict(list)
    for kind in PART_KINDS:
        for path in sorted((store / kind).glob("*/*.json")):
            entry = json.loads(path.read_text(encoding="utf-8"))
            name = entry["result"]["details"].get("part")
            if name is None or "manifest" not in entry:
                continue
            found[name].append(Stored(entry["result"]["source"], Manifest(**entry["manifest"])))
    return dict(found)


def label_parts(label: str) -> frozenset[str]:
    """A combination's label as its settings: ``caching+messaging[kafka]`` -> both parts."""
    return frozenset() if label == "base" else frozenset(label.split("+"))


def nearest(runs: list[Stored], label: str) -> Stored:
    """The stored run of the measured combination fewest settings apart from ``label``."""
    wanted = label_parts(label)
    return min(runs, key=lambda run: (len(label_parts(run.source) ^ wanted), run.source))


@dataclass
class Distinct:
    """Counted over rendered combinations: each keyed check's keys, each part's runs."""

    stored: Mapping[str, list[Stored]]
    python: Path | None
    """The shared environment's interpreter (for keys); None: tier 1 is not counted."""
    combinations: int = 0
    keys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    runs: dict[str, list[tuple[Manifest, str]]] = field(default_factory=lambda: defaultdict(list))
    """Per part, the replayed runs: what each read and its key (the store's entries)."""
    sources: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """Per part, for each replayed run, the measured combination whose stored run it borrowed
    (``nearest``): its CPU-s is what the run is costed at."""
    present: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    varying: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    """Per part, per path a run read, the path's states: which paths split a part's runs."""

    @cached_property
    def paths(self) -> Paths:
        """The paths whose states a combination's facts need: those of the stored manifests."""
        read = {part: {p for run in runs for p in run.manifest.read}
                for part, runs in self.stored.items()}  # fmt: skip
        probed = {part: {p for run in runs for p in run.manifest.probed}
                  for part, runs in self.stored.items()}  # fmt: skip
        viewed = {part: {v for run in runs for v in run.manifest.viewed}
                  for part, runs in self.stored.items()}  # fmt: skip
        return Paths(read, probed, viewed)

    def observe(self, project: Path, label: str) -> None:
        self.add(facts_of(project, label, self.paths, self.python))

    def add(self, facts: Facts) -> None:
        """Count the next combination: its checks' keys, and each part replayed as the store
        would: reused when an earlier run's manifest has the same key here, else run."""
        self.combinations += 1
        for name, key in facts.keys.items():
            self.keys[name].add(key)
        here: dict[tuple[str, int], str] = {}  # per part and stored manifest: its key here
        for part in facts.parts:
            self.present[part] += 1
            if part not in self.stored:
                continue
            runs = self.runs[part]
            if any(self._key(part, m, facts, here) == key for m, key in runs):
                continue
            borrowed = nearest(self.stored[part], facts.label)
            runs.append((borrowed.manifest, self._key(part, borrowed.manifest, facts, here)))
            self.sources[part].append(borrowed.source)

    def _key(
        self, part: str, manifest: Manifest, facts: Facts, here: dict[tuple[str, int], str]
    ) -> str:
        """The manifest's key here (Manifest.key), noting each path's state. Every replayed
        run's manifest is one of the part's stored ones (``nearest``): the same object, so its
        key is computed once per combination however many runs share it."""
        memo = (part, id(manifest))
        if memo not in here:
            read = [read_token(path, facts.states[path][0]) for path in sorted(manifest.read)]
            probed = [probe_token(path, facts.kinds[path]) for path in sorted(manifest.probed)]
            for path in manifest.read:
                self.varying[part][path].add(facts.states[path][1])
            for path in manifest.probed:
                self.varying[part][path].add(facts.kinds[path])
            viewed = [view_token(view, facts.views[view]) for view in sorted(manifest.viewed)]
            here[memo] = key_of(read, probed, viewed)
        return here[memo]

    def _split_by(self, part: str) -> list[list[object]]:
        """The paths with more than one state, most states first (at most five)."""
        found = [[path, len(s)] for path, s in self.varying[part].items() if len(s) > 1]
        return sorted(found, key=lambda f: (-int(str(f[1])), str(f[0])))[:5]

    def counts(self) -> dict[str, Any]:
        return {
            "combinations": self.combinations,
            "checks": {
                c.name: len(self.keys[c.name]) if c.keyed else None
                for c in CHECKS
                if self.python is not None
            },
            "parts": {
                part: {"present": present,
                       "distinct": len(self.runs[part]) if part in self.stored else None,
                       "stored_runs": len(self.stored.get(part, [])),
                       "paths": len({p for run in self.stored.get(part, [])
                                     for p in run.manifest.read}),
                       "split_by": self._split_by(part),
                       "run_sources": dict(sorted(Counter(self.sources[part]).items()))}
                for part, present in sorted(self.present.items())
            },
        }  # fmt: skip


def count_every_combination(store: Path, python: Path, template: str | None) -> dict[str, Any]:
    """Render every combination the catalog allows and count its distinct inputs."""
    distinct = Distinct(stored_runs(store), python)
    selections = combinations()
    for facts in facts_in_order(selections, distinct.paths, python, template, workers()):
        distinct.add(facts)
    return distinct.counts()


def _median(values: Iterable[float]) -> float | None:
    found = list(values)
    return round(statistics.median(found), 2) if found else None


def _tier_two_rows(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    tier2 = entry["tier2"]
    return {**(tier2.get("groups") or {}), **(tier2.get("start") or {})}


def measured_costs(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """From a report's combinations: per check and per part, the CPU-s of its runs (and of a
    check's reuses); per phase, the median CPU-s beyond its checks or parts."""
    checks: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"ran": [], "reused": []})
    parts: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"ran": [], "reusable": 0, "by_source": {}}
    )
    beyond: dict[str, list[float]] = {"tier1": [], "tier2": []}
    for entry in entries:
        cpu = entry.get("cpu") or {}
        found = entry["tier1"].get("checks") or {}
        for name, check in found.items():
            kind = "reused" if check.get("reused_from") else "ran"
            checks[name][kind].append(float(check.get("cpu_seconds", 0.0)))
        if found and not entry.get("cold") and "tier1" in cpu:
            spent = sum(float(c.get("cpu_seconds", 0.0)) for c in found.values())
            beyond["tier1"].append(float(cpu["tier1"]) - spent)
        rows = _tier_two_rows(entry)
        ran = [row for row in rows.values() if row.get("reused_from") is None]
        for name, row in rows.items():
            if row.get("reused_from") is None and "cpu_seconds" in row:
                parts[name]["ran"].append(float(row["cpu_seconds"]))
                parts[name]["by_source"][entry["id"]] = float(row["cpu_seconds"])
                parts[name]["reusable"] += bool(row.get("reusable"))
        if rows and "tier2" in cpu and all("cpu_seconds" in row for row in ran):
            beyond["tier2"].append(float(cpu["tier2"]) - sum(r["cpu_seconds"] for r in ran))
    return {
        "checks": {
            name: {"ran": len(c["ran"]), "median_cpu_seconds": _median(c["ran"]),
                   "reused": len(c["reused"]), "median_reused_cpu_seconds": _median(c["reused"])}
            for name, c in sorted(checks.items())
        },
        "parts": {
            name: {"ran": len(p["ran"]), "reusable_runs": p["reusable"],
                   "median_cpu_seconds": _median(p["ran"]), "by_source": p["by_source"]}
            for name, p in sorted(parts.items())
        },
        "render": _median(float((e.get("cpu") or {}).get("render", 0.0)) for e in entries),
        "beyond": {phase: _median(values) for phase, values in beyond.items()},
    }  # fmt: skip


def part_cpu(
    runs: int,
    median: float | None,
    sources: Mapping[str, int] | None,
    measured: Mapping[str, float] | None,
) -> tuple[float, bool]:
    """A part's CPU-s over its runs, and whether each run was costed at the measured run whose
    reads it borrowed: a part's cost grows with the capabilities around it (the service group's
    fourfold from one capability to eight), so the median of a sample of mostly small
    combinations would undercount the many large ones. Runs of a part never stored (or whose
    source was not measured in this report) count at the part's median."""
    if sources and measured and all(source in measured for source in sources):
        return sum(count * measured[source] for source, count in sources.items()), True
    return runs * (median or 0.0), False


def services_share(summary: dict[str, Any]) -> float | None:
    """The backing services' CPU-s per CPU-s of tier 2 in the measured run (their work is the
    tier 2 tests' queries and messages), when the run measured them and ran nothing but the
    matrix; else None (not projected)."""
    totals = summary["totals"]
    used = totals.get("services_cpu_seconds")
    tier2 = sum(cpu_phases(e)["tier2"] for e in summary["combinations"])
    if used is None or not totals.get("session_ran_only_the_matrix") or tier2 <= 0:
        return None
    return float(used) / tier2


def project(counts: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """The projection by distinct inputs from the counts and a report's summary."""
    measured = measured_costs(summary["combinations"])
    n = counts["combinations"]
    tier1 = []
    for name, distinct in counts["checks"].items():
        cost = measured["checks"].get(name, {})
        runs = n if distinct is None else distinct
        each, reuse = cost.get("median_cpu_seconds"), cost.get("median_reused_cpu_seconds")
        cpu = runs * (each or 0.0) + (n - runs) * (reuse or 0.0)
        tier1.append({"check": name, "keyed": distinct is not None, "runs": runs,
                      "median_cpu_seconds": each, "median_reused_cpu_seconds": reuse,
                      "cpu_seconds": round(cpu, 1)})  # fmt: skip
    tier2 = []
    for name, found in counts["parts"].items():
        cost = measured["parts"].get(name, {"ran": 0, "reusable_runs": 0})
        runs = found["present"] if found["distinct"] is None else found["distinct"]
        each = cost.get("median_cpu_seconds")
        cpu, by_nearest = part_cpu(runs, each, found.get("run_sources"), cost.get("by_source"))
        tier2.append({"part": name, "measured_runs": cost["ran"],
                      "reusable_runs": cost["reusable_runs"], "stored_runs": found["stored_runs"],
                      "paths_read": found["paths"], "present": found["present"],
                      "reused": found["distinct"] is not None, "runs": runs,
                      "split_by": found.get("split_by", []),
                      "median_cpu_seconds": each, "costed_by_nearest_run": by_nearest,
                      "cpu_seconds": round(cpu, 1)})  # fmt: skip
    beyond = {phase: n * max(0.0, value or 0.0) for phase, value in measured["beyond"].items()}
    phases = {
        "render": round(n * (measured["render"] or 0.0), 1),
        "tier1": round(sum(r["cpu_seconds"] for r in tier1) + beyond["tier1"], 1),
        "tier2": round(sum(r["cpu_seconds"] for r in tier2) + beyond["tier2"], 1),
    }
    services = services_share(summary)
    if services is not None:
        phases["services"] = round(services * phases["tier2"], 1)
    total = sum(phases.values())
    totals, additive = summary["totals"], summary["projection"]
    workers, cores = int(additive["workers"]), int(additive.get("cores", additive["workers"]))
    per_worker_second = totals["cpu_seconds"] / totals["worker_seconds"]
    rest = float(additive["rest_of_session_seconds"])
    return {
        "combinations": n, "workers": workers, "cores": cores,
        "full_catalog_combinations": len(combinations(EVERY_CAPABILITY)),
        "cpu_seconds_by_phase": phases,
        "beyond_parts_cpu_seconds": {k: round(v, 1) for k, v in beyond.items()},
        "median_beyond_parts_cpu_seconds": measured["beyond"],
        "median_render_cpu_seconds": measured["render"],
        "tier1": tier1, "tier2": tier2,
        "unmeasured": sorted([r["check"] for r in tier1 if r["median_cpu_seconds"] is None]
                             + [r["part"] for r in tier2 if r["median_cpu_seconds"] is None]),
        "cpu_seconds": round(total, 1),
        "matrix_wall_seconds_if_cpu_bound": round(total / min(workers, cores), 1),
        "cpu_per_worker_second": round(per_worker_second, 3),
        "rest_of_session_seconds": rest,
        "wall_seconds": round(rest + total / per_worker_second / workers, 1),
    }  # fmt: skip


def measure(summary: dict[str, Any], store: Path, template: str | None) -> dict[str, Any]:
    from tests.matrix.shared_env import VENV

    counts = count_every_combination(store, VENV / "bin" / "python", template)
    return project(counts, summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="report.json of a run")
    parser.add_argument("--store", type=Path, help="its reuse store (default: beside it)")
    parser.add_argument("--write", action="store_true", help="add it to report.json and .md")
    parser.add_argument("--template", help="another template (as SCAFFOLD_MATRIX_TEMPLATE)")
    options = parser.parse_args()
    summary = json.loads(options.report.read_text(encoding="utf-8"))
    store = options.store or options.report.parent / "reuse"
    projected = measure(summary, store, options.template)
    print("\n".join(distinct_lines(projected)))
    if options.write:
        from tests.matrix.report import write

        summary["projection_by_distinct_inputs"] = projected
        write(summary, options.report.parent)


if __name__ == "__main__":
    main()
