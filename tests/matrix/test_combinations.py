"""Tier 1 (static) and tier 2 (runtime) for each combination the catalog allows."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scaffold.commands.new import NewOptions, create_project
from scaffold.matrix import pairwise
from scaffold.names import package_name
from scaffold.selection import Request, Selection
from tests.matrix import report, runtime_checks, static_checks, terraform_checks
from tests.matrix.shared_env import shared_python

PROJECT = "matrix-svc"
TEMPLATE = os.environ.get("SCAFFOLD_MATRIX_TEMPLATE")  # another template: to test the matrix
RUNTIME = os.environ.get("SCAFFOLD_MATRIX_TIERS", "all") != "static"


def render(selection: Selection, into: Path, *, lock: bool = True) -> Path:
    """Render through the same code path as `scaffold new` (with its locks, unless told)."""
    folder = into / hashlib.sha1(selection.label().encode()).hexdigest()[:12]
    request = Request(with_=tuple(sorted(selection.capabilities)), variants=selection.variants)
    options = NewOptions(
        name=PROJECT, output_dir=folder, request=request, template=TEMPLATE, lock=lock
    )
    result = create_project(options)
    return result.target


@pytest.fixture(scope="session")
def python(renders: Path) -> Path:
    """The shared environment: every dependency any combination declares."""
    samples = [render(s, renders / "deps", lock=False) for s in pairwise()]
    return shared_python(samples)


def static_tier(project: Path, python: Path, cache: Path) -> None:
    static_checks.no_template_leftovers(project)
    static_checks.structured_files_parse(project)
    static_checks.python_compiles(project, str(python))
    static_checks.ruff_clean(project, str(python))
    static_checks.mypy_clean(project, str(python), cache)
    static_checks.workflows_lint(project)
    static_checks.dockerfile_lint(project)
    static_checks.terraform_formatted(project)
    terraform_checks.terraform_validate(project)
    terraform_checks.terraform_plan(project)
    terraform_checks.production_requires_a_certificate(project)
    static_checks.nginx_config_valid(project)


def runtime_tier(project: Path, python: Path, admin_url: str, label: str) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
    database = f"m_{hashlib.sha1(label.encode()).hexdigest()[:10]}_{worker}"
    with runtime_checks.fresh_database(admin_url, database) as url:
        env = runtime_checks.project_env(python, project, url, {})
        runtime_checks.own_tests_pass(project, python, env)
        runtime_checks.boots_and_is_ready(project, python, package_name(PROJECT), env)


@contextmanager
def tier(entry: dict[str, object], name: str) -> Iterator[None]:
    """Record a tier's outcome and seconds, whether it passes or raises."""
    started = time.monotonic()
    entry[name] = "failed"
    try:
        yield
        entry[name] = "passed"
    finally:
        entry[f"{name}_seconds"] = round(time.monotonic() - started, 1)


def test_combination(
    combination: Selection, renders: Path, python: Path, admin_database_url: str
) -> None:
    label = combination.label()
    entry: dict[str, object] = {
        "id": label, "tier1": "not run", "tier1_seconds": 0.0,
        "tier2": "not run", "tier2_seconds": 0.0,
    }  # fmt: skip
    try:
        with tier(entry, "tier1"):
            project = render(combination, renders)
            static_tier(project, python, renders / "mypy-cache")
        if RUNTIME:
            with tier(entry, "tier2"):
                runtime_tier(project, python, admin_database_url, label)
    finally:
        report.record(entry)
