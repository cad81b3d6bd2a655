"""Project names never shadow what the generated service installs: derived from the template."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

from scaffold.catalog import CATALOG
from scaffold.service_dependencies import (
    current_declarations,
    declared_requirements,
    installed_modules,
    normalise,
    recorded_declarations,
    requirement_key,
    shadowed,
)
from tests.support.render import render


def test_the_modules_table_was_resolved_from_the_current_declarations() -> None:
    assert recorded_declarations() == current_declarations(), (
        "the template's dependencies changed: run python -m scaffold.service_dependencies --write"
    )


def test_every_dependency_of_the_fullest_service_is_covered(tmp_path: Path) -> None:
    project = render("full-svc", tmp_path, tuple(c.name for c in CATALOG.available))
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    declared = list(data["project"]["dependencies"])
    for group in data.get("dependency-groups", {}).values():
        declared += [item for item in group if isinstance(item, str)]
    assert declared
    known = shadowed()
    for requirement in declared:
        distribution = normalise(requirement_key(requirement).split("[")[0])
        assert distribution in known.distributions, requirement
        assert distribution.replace("-", "_") in known.modules, requirement
    assert {requirement_key(r) for r in declared} <= set(current_declarations())


def test_every_branch_and_kind_of_dependency_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "pyproject.toml.jinja").write_text(
        '[project]\nname = "{{ project_name }}"\ndescription = {{ description | tojson }}\n'
        'dependencies = [\n    "fastapi>=1",\n{%- if caching %}\n    "Redis[hiredis]>=8",\n'
        '{%- else %}\n    "memcache",\n{%- endif %}\n]\n\n'
        '[dependency-groups]\ndev = ["pytest>=9", {include-group = "lint"}]\nlint = ["ruff"]\n\n'
        '[tool.ruff.lint]\nselect = ["E", "F"]\n'
    )
    partial = tmp_path / "partials" / "{% if messaging %}messaging.toml{% endif %}.jinja"
    partial.parent.mkdir()
    partial.write_text('dependencies = ["aiokafka>=0.12"]\n')
    fragment = tmp_path / "parts" / "redis" / "pyproject.dependencies.toml"
    fragment.parent.mkdir(parents=True)
    fragment.write_text('    "hiredis>=3",  # a comment\n    "redis-om",\n')
    (tmp_path / "project" / "requirements-docs.txt").write_text(
        "# docs\nmkdocs>=1.6  # the site\n-r base.txt\n"
    )
    (tmp_path / "project" / "uv.lock").write_text(
        'version = 1\n\n[[package]]\nname = "starlette"\nversion = "1.0"\n'
    )
    assert declared_requirements(tmp_path) == sorted(
        [
            "Redis[hiredis]>=8",
            "aiokafka>=0.12",
            "fastapi>=1",
            "hiredis>=3",
            "memcache",
            "mkdocs>=1.6",
            "pytest>=9",
            "redis-om",
            "ruff",
            "starlette",
        ]
    )


def test_installed_modules_are_read_from_what_pip_recorded() -> None:
    table = installed_modules(Path(sysconfig.get_paths()["purelib"]))
    assert table["pyyaml"] == {"yaml", "_yaml"}
    assert table["typer"] == {"typer"}
    assert "hypothesis" in table["hypothesis"]


def test_the_declarations_are_read_once_per_process() -> None:
    assert shadowed() is shadowed()


def test_checking_a_name_stays_light() -> None:
    """`new` checks the name before importing Copier; the check needs neither it nor Jinja."""
    probe = (
        "import sys; from scaffold.names import validate_project_name; "
        "validate_project_name('payments'); "
        "print(sorted({'copier', 'jinja2', 'questionary'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
