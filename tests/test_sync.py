from __future__ import annotations

import yaml

from scaffold.catalog import CATALOG
from scaffold.copier_questions import service_conditions
from scaffold.sync import stale_files
from scaffold.template_source import packaged_template


def test_files_derived_from_the_catalog_are_up_to_date() -> None:
    assert stale_files() == [], "run: python -m scaffold.sync --write"


def test_copier_questions_cover_exactly_the_available_capabilities() -> None:
    questions = yaml.safe_load((packaged_template() / "copier.yml").read_text())
    asked = {key for key, spec in questions.items() if not key.startswith("_")}
    expected = {c.name for c in CATALOG.available} | {
        c.answer_key(v) for c in CATALOG.available for v in c.variants
    }
    computed = {f"needs_{service}" for service in service_conditions()} | {
        "parts",
        "python_packages",
    }
    assert expected <= asked
    assert asked - expected == {"project_name", "package_name", "description"} | computed
