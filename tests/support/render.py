"""Render generated projects for benchmarks and end-to-end tests, with the matrix's shared env."""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import shutil
from collections.abc import Mapping
from pathlib import Path

from scaffold.catalog import CATALOG, Catalog
from scaffold.commands.new import NewOptions, create_project
from scaffold.copier_questions import render_copier_yml
from scaffold.render import render_project
from scaffold.selection import Request, resolve
from scaffold.template_source import TemplateSource, packaged_template
from tests.matrix.shared_env import CACHE, environment, requirements_of, shared_python

PLANNED_VENV = CACHE / "planned-venv"


def render(
    name: str,
    folder: Path,
    capabilities: tuple[str, ...],
    variants: Mapping[str, str] | None = None,
) -> Path:
    """A project rendered through `scaffold new`'s code path, without git."""
    request = Request(with_=capabilities, variants=dict(variants or {}))
    return create_project(NewOptions(name, folder, request, git=False, lock=False)).target


def shared_interpreter(scratch: Path | None = None) -> Path:
    """The shared interpreter holding every combination's dependencies (the matrix's own)."""
    return shared_python()


def project_and_python(
    scratch: Path,
    name: str,
    capabilities: tuple[str, ...],
    variants: Mapping[str, str] | None = None,
) -> tuple[Path, Path]:
    """The project, and the shared interpreter holding every combination's dependencies."""
    return render(name, scratch, capabilities, variants), shared_interpreter()


def with_planned(capabilities: tuple[str, ...], catalog: Catalog = CATALOG) -> Catalog:
    """The catalog with these planned capabilities offered, as they will be once available."""
    return dataclasses.replace(
        catalog,
        capabilities=tuple(
            dataclasses.replace(c, available=True) if c.name in capabilities else c for c in catalog
        ),
    )


def render_planned(name: str, folder: Path, capabilities: tuple[str, ...]) -> Path:
    """A project with capabilities the catalog still lists as planned (their code is on main):
    `scaffold new`'s render, from a copy of the template whose questions (copier.yml, derived
    from the catalog) offer them. Capabilities that are available render as `render` does."""
    catalog = with_planned(capabilities)
    template = folder / "template"
    shutil.copytree(packaged_template(), template)
    (template / "copier.yml").write_text(render_copier_yml(catalog), encoding="utf-8")
    selection = resolve(Request(with_=capabilities), catalog)
    target = folder / name
    data = {"project_name": name, **selection.copier_data(catalog)}
    render_project(TemplateSource(str(template), str(template)), target, data)
    return target


def planned_interpreter(projects: list[Path]) -> Path:
    """An environment with the shared one's dependencies and those of these projects (whose
    planned capabilities the shared one, built from available ones, does not hold)."""
    shared = shared_python()
    wanted = set(json.loads((shared.parent.parent / "requirements.json").read_text()))
    for project in projects:
        wanted |= requirements_of(project)
    digest = hashlib.sha256("\n".join(sorted(wanted)).encode()).hexdigest()[:16]
    with (CACHE / "planned-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return environment(PLANNED_VENV, sorted(wanted), digest)
