"""The matrix report: readiness, reuse counts, percentiles, the projection formula, and the
merge of CI shards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scaffold.matrix import combinations
from tests.matrix import merge, projection, report, report_markdown


def entry(label: str, caps: list[str], seconds: float, *, ok: bool = True, cold: bool = False,
          reused_from: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "id": label, "capabilities": caps, "variants": {}, "cold": cold, "workers": 2,
        "render_seconds": 1.0,
        "tier1": {"outcome": "passed", "seconds": 2.0, "checks": {
            "hadolint": {"outcome": "passed", "seconds": 0.0, "keyed": True,
                         "reused_from": reused_from, "source_seconds": 0.5}}},
        "tier2": {"outcome": "passed" if ok else "failed", "seconds": seconds - 3.0,
                  "interactions": []},
    }  # fmt: skip


# The measured capabilities of these examples: the combinations made of them alone are "run";
# every other capability of the catalog counts as not measured.
MEASURED = frozenset({"caching", "rate_limiting"})


def every(seconds: dict[str, float], **failing: bool) -> list[dict[str, Any]]:
    return [
        entry(s.label(), sorted(s.capabilities), seconds[s.label()], ok=not failing.get(s.label()))
        for s in combinations()
        if s.capabilities <= MEASURED
    ]


def all_combinations(failing: str = "") -> list[dict[str, Any]]:
    """An entry for every combination the catalog offers (what a whole matrix run writes)."""
    return [
        entry(s.label(), sorted(s.capabilities), SECONDS.get(s.label(), 20.0),
              ok=s.label() != failing)
        for s in combinations()
    ]  # fmt: skip


SECONDS = {"base": 10.0, "caching": 15.0, "rate_limiting": 13.0, "caching+rate_limiting": 18.0}


def test_a_capability_is_ready_only_when_every_combination_with_it_ran_and_passed() -> None:
    assert set(SECONDS) == {s.label() for s in combinations() if s.capabilities <= MEASURED}
    ready = report.readiness(all_combinations())
    assert ready["caching"]["ready"] and ready["rate_limiting"]["ready"]
    failing = report.readiness(all_combinations(failing="caching+rate_limiting"))
    assert not failing["caching"]["ready"] and not failing["rate_limiting"]["ready"]
    with_caching = sum("caching" in s.capabilities for s in combinations())
    partial = report.readiness([e for e in all_combinations() if e["id"] != "caching"])
    assert partial["caching"] == {
        "combinations": with_caching, "ran": with_caching - 1, "passed": with_caching - 1,
        "ready": False,
    }  # fmt: skip
    assert partial["rate_limiting"]["ready"]


def test_the_projection_follows_the_documented_formula() -> None:
    # base 10, caching +5 and +5, rate_limiting +3 and +3: marginal 5 and 3; unmeasured: 4
    measured = projection.project(every(SECONDS), wall=40.0, workers=2, cores=2)
    assert measured["marginal_seconds"] == {"caching": 5.0, "rate_limiting": 3.0}
    assert measured["assumed_marginal_seconds"] == 4.0
    # 288 combinations: sharding, caching, rate_limiting, observability, cicd appear in 144
    # each; messaging (kafka or rabbitmq) and auth in 192; multitenancy in 96.
    expected = 288 * 10 + 144 * 5 + 144 * 3 + 3 * 144 * 4 + 192 * 4 + 192 * 4 + 96 * 4
    assert measured["worker_seconds"] == expected
    rest = 40.0 - sum(SECONDS.values()) / 2
    assert measured["rest_of_session_seconds"] == rest
    assert measured["wall_seconds"] == round(rest + expected / 2, 1)
    assert measured["wall_seconds_by_median"] == round(rest + 288 * 14.0 / 2, 1)


def test_each_variant_and_every_capability_of_a_sample_has_its_own_marginal_cost() -> None:
    """A sample with a capability not offered yet (flipped on locally): its marginal is
    measured, not assumed; a broker measured alone stands in for the other one; the CPU
    marginals come from each combination's CPU seconds."""
    sample = [
        entry("base", [], 10.0),
        entry("messaging[kafka]", ["messaging"], 40.0),
        entry("auth", ["auth"], 14.0),
        entry("auth+multitenancy", ["auth", "multitenancy"], 34.0),
        entry("caching+auth", ["auth", "caching"], 30.0),
        entry("rate_limiting+auth", ["auth", "rate_limiting"], 16.0),
        # no pair's side: the model's check (10 + 16 + 2 predicted, 36 measured)
        entry("caching+rate_limiting", ["caching", "rate_limiting"], 36.0),
    ]
    sample[1]["variants"] = {"messaging_broker": "kafka"}
    for item in sample:  # CPU: half the wall seconds, all of it in tier 2
        item["cpu"] = {"render": 0.0, "tier1": 0.0, "tier2": projection.cost(item) / 2}
    projected = projection.project(sample, wall=100.0, workers=2, cores=2)
    assert projected["marginal_seconds"] == {
        "auth": 4.0, "caching": 16.0, "messaging[kafka]": 30.0, "multitenancy": 20.0,
        "rate_limiting": 2.0,
    }  # fmt: skip
    assert projected["marginal_cpu_seconds"] == {
        "auth": 2.0, "caching": 8.0, "messaging[kafka]": 15.0, "multitenancy": 10.0,
        "rate_limiting": 1.0,
    }  # fmt: skip
    assumed = projected["assumed_for"]
    assert "messaging[rabbitmq]" in assumed and "multitenancy" not in assumed
    # rabbitmq costs what kafka does (30), not the mean of every measured part (17.5)
    every_part = [projection.parts(s.capabilities, s.variants)
                  for s in combinations(projection.EVERY_CAPABILITY)]  # fmt: skip
    marginals = {**projected["marginal_seconds"], "messaging[rabbitmq]": 30.0}
    expected = sum(
        10.0 + sum(marginals.get(part, projected["assumed_marginal_seconds"]) for part in found)
        for found in every_part
    )
    assert projected["worker_seconds"] == round(expected, 1)
    assert projected["additivity"] == [  # the pairs' larger sides are left out
        {"id": "caching+rate_limiting", "cpu_seconds": 18.0, "predicted_cpu_seconds": 14.0,
         "tier2": "passed"},
    ]  # fmt: skip
    text = report_markdown.markdown(report.summarise(sample, 100.0))
    assert "| `caching+rate_limiting` | 18.0 | 14.0 | passed |" in text
    assert "marginal CPU-s per capability" in text
    # CPU-bound: the CPU seconds over the cores the workers can use, never over more workers
    assert projected["matrix_wall_seconds_if_cpu_bound"] == round(projected["cpu_seconds"] / 2, 1)
    for workers, cores, used in ((3, 2, 2), (3, 4, 3)):
        busier = projection.project(sample, wall=100.0, workers=workers, cores=cores)
        bound = busier["matrix_wall_seconds_if_cpu_bound"]
        assert bound == round(projected["cpu_seconds"] / used, 1)


def test_a_workers_first_tier_one_counts_as_a_warm_one() -> None:
    warm = projection.project(every(SECONDS), wall=40.0, workers=2, cores=2)
    entries = every(SECONDS)
    entries[0]["cold"] = True
    entries[0]["tier1"]["seconds"] += 100.0  # filled the caches
    cold = projection.project(entries, wall=40.0 + 50.0, workers=2, cores=2)
    assert cold["worker_seconds"] == warm["worker_seconds"]  # the model is unchanged
    assert cold["rest_of_session_seconds"] == warm["rest_of_session_seconds"] + 50.0


def test_totals_percentiles_and_reuse_counts() -> None:
    entries = every(SECONDS)
    entries[1]["tier1"]["checks"]["hadolint"]["reused_from"] = "base"
    summary = report.summarise(entries, 40.0)
    assert summary["totals"]["median_seconds_per_combination"] == 14.0
    assert summary["totals"]["p90_seconds_per_combination"] == 18.0
    assert summary["reuse"]["hadolint"] == {"ran": 3, "reused": 1, "saved_seconds": 0.5}
    assert summary["reuse"]["tier 2 (whole combination)"]["ran"] == 4


def test_each_tier_two_group_counts_its_runs_and_reuses() -> None:
    entries = every(SECONDS)[:2]
    part = {"outcome": "passed", "reusable": True}
    entries[0]["tier2"]["groups"] = {
        "service": {**part, "reused_from": None, "seconds": 9.0},
        "release": {**part, "reused_from": None, "seconds": 2.0},
    }
    entries[1]["tier2"]["groups"] = {
        "service": {**part, "reused_from": None, "seconds": 8.0},
        "release": {**part, "reused_from": entries[0]["id"], "seconds": 2.0},
    }
    for item in entries:
        item["tier2"]["start"] = {"migrate+boot": {**part, "reused_from": None, "seconds": 1.0}}
    summary = report.summarise(entries, 40.0)
    reuse = summary["reuse"]
    assert reuse["tier 2 group: release"] == {"ran": 1, "reused": 1, "saved_seconds": 2.0}
    assert reuse["tier 2 group: service"] == {"ran": 2, "reused": 0, "saved_seconds": 0.0}
    assert reuse["tier 2 (groups)"] == {"ran": 3, "reused": 1, "saved_seconds": 2.0}
    assert reuse["tier 2 migrate+boot"] == {"ran": 2, "reused": 0, "saved_seconds": 0.0}
    assert reuse["tier 2 (whole combination)"] == {"ran": 2, "reused": 0, "saved_seconds": 0.0}
    assert "| tier 2 group: release | 1 | 1 | 2.0 |" in report_markdown.markdown(summary)


def test_the_provider_caches_answers_are_counted_with_what_they_saved() -> None:
    entries = every(SECONDS)
    answers = [(1, 1, 2.4), (0, 2, 0.0), (1, 3, 2.6)]
    for entry_, (ran, reused, seconds) in zip(entries, answers, strict=False):
        entry_["tier1"]["provider_answers"] = {
            "PrepareProviderConfig": {"ran": ran, "reused": reused, "provider_seconds": seconds}
        }
    counts = report.summarise(entries, 40.0)["reuse"]
    # 2 answers made in 5.0 s, 6 given again: 6 x 2.5 s saved
    assert counts["terraform provider PrepareProviderConfig (calls)"] == {
        "ran": 2, "reused": 6, "saved_seconds": 15.0,
    }  # fmt: skip


def test_render_and_tier_one_medians_and_what_each_check_costs_when_it_runs() -> None:
    entries = every(SECONDS)
    entries[0]["cold"] = True
    entries[0]["tier1"]["seconds"] = 100.0  # filled the caches: not a warm tier 1
    entries[1]["render_seconds"] = 3.0
    for index, seconds in enumerate((4.0, 6.0, 9.0)):
        entries[index]["tier1"]["checks"]["hadolint"]["seconds"] = seconds
        entries[index]["tier1"]["checks"]["hadolint"]["cpu_seconds"] = seconds / 2
    entries[3]["tier1"]["checks"]["hadolint"]["reused_from"] = "base"
    summary = report.summarise(entries, 40.0)
    assert summary["totals"]["median_render_seconds"] == 1.0
    assert summary["totals"]["median_tier1_seconds"] == 2.0
    assert summary["checks"]["hadolint"] == {
        "ran": 3, "median_seconds": 6.0, "total_seconds": 19.0,
        "median_cpu_seconds": 3.0, "total_cpu_seconds": 9.5,
    }  # fmt: skip
    assert "| hadolint | 3 | 6.0 | 19.0 | 3.0 | 9.5 |" in report_markdown.markdown(summary)


def shard(folder: Path, entries: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True)
    (folder / "results-gw0.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    return folder


def test_merging_shards_checks_that_each_combination_ran_exactly_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = all_combinations()
    one, two = shard(tmp_path / "1", entries[:2]), shard(tmp_path / "2", entries[2:])
    out = tmp_path / "merged"
    assert merge.main([str(one), str(two), "--out", str(out), "--expect-every-combination"]) == 0
    merged = json.loads((out / "report.json").read_text())["combinations"]
    assert len(merged) == len(entries)
    assert merge.main([str(one), "--out", str(out), "--expect-every-combination"]) == 1
    missing = sorted(e["id"] for e in entries[2:])
    assert f"missing: {missing}" in capsys.readouterr().err
    again = shard(tmp_path / "3", entries[1:2])
    assert merge.main([str(one), str(two), str(again), "--out", str(out)]) == 1
    assert "ran more than once" in capsys.readouterr().err


def test_test_modules_are_ranked_by_the_seconds_they_cost_where_they_ran() -> None:
    ran = entry("caching", ["caching"], 20.0)
    ran["tier2"]["module_seconds"] = {"tests/a.py": 4.0, "tests/b.py": 1.0}
    other = entry("base", [], 20.0)
    other["tier2"]["module_seconds"] = {"tests/a.py": 2.0}
    reused = entry("rate_limiting", ["rate_limiting"], 20.0)
    reused["tier2"].update(reused_from="base", module_seconds={"tests/b.py": 50.0})
    summary = report.summarise([ran, other, reused], wall_seconds=60.0)
    rows = summary["test_modules"]
    assert rows == [
        {"module": "tests/a.py", "combinations": 2, "total_seconds": 6.0, "median_seconds": 3.0},
        {"module": "tests/b.py", "combinations": 1, "total_seconds": 1.0, "median_seconds": 1.0},
    ]
    assert "| `tests/a.py` | 2 | 6.0 | 85.7 | 3.0 |" in report_markdown.markdown(summary)


def test_a_session_that_ran_every_combination_reports_its_wall_time_as_measured() -> None:
    """Once all of them ran, the wall time is measured, not projected (the models stay beside)."""
    full = [
        entry(s.label(), sorted(s.capabilities), 20.0)
        for s in combinations(projection.EVERY_CAPABILITY)
    ]
    ran_all = projection.project(full, wall=2850.0, workers=3, cores=2)
    assert ran_all["ran_every_combination"] and ran_all["measured_wall_seconds"] == 2850.0
    sample = projection.project(every(SECONDS), wall=40.0, workers=2, cores=2)
    assert not sample["ran_every_combination"]
    one_missing = projection.project(full[1:], wall=2850.0, workers=3, cores=2)
    assert not one_missing["ran_every_combination"]
