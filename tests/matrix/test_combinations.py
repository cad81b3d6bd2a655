"""Tier 1 (static) and tier 2 (runtime) for each combination the catalog allows."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from scaffold.names import package_name
from scaffold.selection import Selection
from tests.matrix import report, terraform_provider
from tests.matrix.conftest import TEMPLATE
from tests.matrix.cpu_clock import cpu_seconds
from tests.matrix.reuse import Result
from tests.matrix.runtime_checks import Combination, Worker, runtime_tier
from tests.matrix.shared_env import missing_requirements
from tests.matrix.static_checks import Tools
from tests.matrix.static_tier import covered_tests, failures, static_tier
from tests.matrix.workspace import PROJECT, render

RUNTIME = os.environ.get("SCAFFOLD_MATRIX_TIERS", "all") != "static"
NOT_RUN: dict[str, Any] = {"outcome": "not run", "seconds": 0.0}


def cpu(worker: Worker) -> float:
    """CPU seconds used so far by this worker, its programs, its shared Terraform provider,
    its checkov scans and the fork server's children."""
    return cpu_seconds() + worker.runner.cpu_seconds


def test_combination(
    combination: Selection, worker_dir: Path, tools: Tools, worker: Worker
) -> None:
    label = combination.label()
    entry: dict[str, Any] = {
        "id": label,
        "capabilities": sorted(combination.capabilities),
        "variants": dict(combination.variants),
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "workers": int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")),
        "cold": tools.combinations_run == 0,
        "render_seconds": 0.0,
        "tier1": dict(NOT_RUN),
        "tier2": dict(NOT_RUN),
    }
    tools.combinations_run += 1
    marks = [cpu(worker)]
    try:
        started = time.monotonic()
        project = render(combination, worker_dir, TEMPLATE)
        entry["render_seconds"] = round(time.monotonic() - started, 2)
        marks.append(cpu(worker))
        missing = missing_requirements(project, worker.python)
        assert not missing, f"the shared environment lacks {missing}: see shared_env.py"
        broken = tier_one(project, tools, worker, label, entry)
        marks.append(cpu(worker))
        assert not broken, broken
        if RUNTIME:
            covered = covered_tests(entry["tier1"]["checks"])
            package = package_name(PROJECT)
            result = runtime_tier(
                Combination(label, combination.capabilities, project, package, covered), worker
            )
            entry["tier2"] = tier_two_entry(result, label)
            assert result.outcome == "passed", result.message
    finally:
        marks.append(cpu(worker))
        marks += [marks[-1]] * (4 - len(marks))  # phases that did not run cost nothing
        entry["cpu"] = {
            phase: round(marks[i + 1] - marks[i], 2)
            for i, phase in enumerate(("render", "tier1", "tier2"))
        }
        entry["cpu_seconds"] = round(marks[3] - marks[0], 2)
        report.record(entry)


def tier_one(project: Path, tools: Tools, worker: Worker, label: str, entry: dict[str, Any]) -> str:
    before = dict(tools.reused_files)
    provider_before = provider_answers()
    started = time.monotonic()
    checks = static_tier(project, tools, worker.store, label)
    broken = failures(checks)
    entry["tier1"] = {
        "outcome": "failed" if broken else "passed",
        "seconds": round(time.monotonic() - started, 2),
        "checks": checks,
        "files_reused": {k: v - before.get(k, 0) for k, v in tools.reused_files.items()},
        "provider_answers": answers_since(provider_before, provider_answers()),
    }
    return broken


Answers = tuple[object, dict[str, dict[str, float]]]


def provider_answers() -> Answers:
    """The shared Terraform provider (its identity) and its cache's counts so far."""
    provider = terraform_provider.running()
    return provider, provider.cache_counts() if provider else {}


def answers_since(before: Answers, after: Answers) -> dict[str, dict[str, float]]:
    """Per cached method of the provider, the calls answered and reused in between (all of the
    later provider's when it is another one: the first was replaced)."""
    earlier = before[1] if before[0] is after[0] else {}
    return {
        method.rsplit("/", 1)[-1]: {
            field: round(value - earlier.get(method, {}).get(field, 0), 2)
            for field, value in counts.items()
        }
        for method, counts in after[1].items()
    }


def tier_two_entry(result: Result, label: str) -> dict[str, Any]:
    reused = result.source != label
    return {
        "outcome": result.outcome,
        "seconds": 0.0 if reused else result.seconds,
        "reused_from": result.source if reused else None,
        "source_seconds": result.seconds,
        "message": result.message,
        **result.details,
    }
