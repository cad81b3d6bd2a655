"""A third capability, made here from one catalog entry and files of its own, plugs in unaided.

The toy has a package (settings section, protocol object, a router, a readiness check, an
items hook), an integration test, and README/.env parts. Adding it changes no file the template
already has, except `copier.yml`, which is derived from the catalog. It then renders, passes
tier 1 (lint, types, parse...) and tier 2 (its own tests and the others', against the real
services; boot and readiness) with the toy on, in combination with every pair of settings of
the real capabilities (their pairwise covering set) and with all of them at once.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from scaffold.catalog import CATALOG, Capability, Catalog
from scaffold.copier_questions import render_copier_yml
from scaffold.matrix import pairwise
from scaffold.render import render_tree
from scaffold.selection import Request, Selection, resolve
from scaffold.template_source import TemplateSource, packaged_template
from tests.matrix import static_checks
from tests.support.render import shared_interpreter
from tests.support.tool_caches import lasting_caches, worker_name
from tests.support.warm_tier_two import tier_two_warm

TOY = Capability(
    name="toy",
    title="Toy",
    help="A capability made by a test.",
    package="toy",
    available=True,
)
TOY_CATALOG = Catalog(
    capabilities=(*CATALOG.capabilities, TOY),
    presets=CATALOG.presets,
    backing_services=CATALOG.backing_services,
)
PACKAGE = Path("project", "src", "{{ package_name }}", "{% if toy %}toy{% endif %}")
TESTS = Path("project", "tests", "integration", "{% if toy %}toy{% endif %}")
PROJECT_NAME = "toy-svc"

TOY_FILES: dict[Path, str] = {
    PACKAGE / "__init__.py": '"""The toy capability: a greeting, and a count of item writes."""\n',
    PACKAGE / "config.py": '''\
"""The toy's settings section."""

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    toy_greeting: str = "hello"
''',
    PACKAGE / "capability.py": '''\
"""The toy in the capability protocol."""

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request

from ..capability import Capability
from ..extensions import Extensions
from ..health.checks import ReadinessCheck
from ..items.hooks import ItemChange

router = APIRouter(prefix="/toy", tags=["toy"])


@router.get("")
async def greet(request: Request) -> dict[str, object]:
    return {
        "greeting": request.app.state.settings.toy_greeting,
        "changes": request.app.state.toy_changes,
    }


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.toy_changes = 0
    yield


async def always_ready() -> None:
    return None


def readiness(_: FastAPI) -> Iterable[ReadinessCheck]:
    return (ReadinessCheck("toy", always_ready, critical=False),)


async def count(app: FastAPI, _: ItemChange) -> None:
    app.state.toy_changes += 1


def extend(extensions: Extensions) -> None:
    extensions.items.changed.append(count)


CAPABILITY = Capability(
    name="toy", lifespan=lifespan, readiness=readiness, routers=(router,), extend=extend
)
''',
    TESTS / "__init__.py": "",
    TESTS / "test_toy.py": """\
from httpx import AsyncClient


async def test_the_toy_answers_and_counts_item_writes(client: AsyncClient) -> None:
    assert (await client.get("/toy")).json() == {"greeting": "hello", "changes": 0}

    created = await client.post("/items", json={"name": "counted"})

    assert created.status_code == 201
    assert (await client.get("/toy")).json()["changes"] == 1
    ready = (await client.get("/health/ready")).json()
    assert ready["checks"]["toy"] == {
        "status": "ok",
        "duration_ms": ready["checks"]["toy"]["duration_ms"],
        "error": None,
        "critical": False,
    }
""",
    Path("parts", "toy", "readme.section.md"): "\n## Toy\n\nA capability made by a test.\n",
    Path("parts", "toy", "env.example"): "\n# Toy\nTOY_GREETING=hello\n",
}


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def toy_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = tmp_path_factory.mktemp("toy") / "template"
    shutil.copytree(packaged_template(), template)
    before = digests(template)
    for relative, text in TOY_FILES.items():
        (template / relative).parent.mkdir(parents=True, exist_ok=True)
        (template / relative).write_text(text, encoding="utf-8")
    (template / "copier.yml").write_text(render_copier_yml(TOY_CATALOG), encoding="utf-8")

    after = digests(template)
    changed = {path for path, digest in before.items() if after.get(path) != digest}
    assert changed == {"copier.yml"}, "adding the toy edited shared template files"
    return template


def toy_combinations() -> list[Selection]:
    real = [c.name for c in CATALOG.available]
    chosen = [s for s in pairwise(TOY_CATALOG) if "toy" in s.capabilities]
    chosen.append(resolve(Request(with_=("toy", *real)), TOY_CATALOG))  # default variants
    unique = {s.label(TOY_CATALOG): s for s in chosen}
    return [unique[label] for label in sorted(unique)]


@pytest.fixture(scope="module")
def python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_interpreter(tmp_path_factory.mktemp("toy-deps"))


def render(template: Path, selection: Selection, into: Path) -> Path:
    # A label's variant is in brackets (`messaging[rabbitmq]`), which a path must not hold: ruff
    # reads its `src` entries as globs under the project's folder, so a bracket there turns it
    # into a character class, nothing matches, and the service's own package sorts as third-party.
    folder = into / re.sub(r"[^A-Za-z0-9_-]+", "-", selection.label(TOY_CATALOG)) / PROJECT_NAME
    source = TemplateSource(str(template), str(template))
    data = {"project_name": PROJECT_NAME, **selection.copier_data(TOY_CATALOG)}
    render_tree(source, folder, data)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(
    "combination", toy_combinations(), ids=[s.label(TOY_CATALOG) for s in toy_combinations()]
)
def test_the_toy_capability_renders_lints_and_runs(
    combination: Selection,
    toy_template: Path,
    python: Path,
    tmp_path: Path,
    admin_database_url: str,
) -> None:
    project = render(toy_template, combination, tmp_path)
    assert (project / "src" / "toy_svc" / "toy" / "capability.py").is_file()
    assert "from .toy.capability import CAPABILITY as TOY" in (
        project / "src" / "toy_svc" / "capabilities.py"
    ).read_text(encoding="utf-8")
    assert "## Toy" in (project / "README.md").read_text(encoding="utf-8")

    with lasting_caches(worker_name("-checks"), tmp_path / "caches") as caches:
        tools = static_checks.Tools(python=python, caches=caches)
        static_checks.no_template_leftovers(project, tools)
        static_checks.python_compiles(project, tools)
        static_checks.ruff_clean(project, tools)
        static_checks.mypy_clean(project, tools)

    label = combination.label(TOY_CATALOG)
    result = tier_two_warm(
        project, python, "toy_svc", tmp_path / "logs", label, frozenset(combination.capabilities)
    )
    assert result.outcome == "passed", result.message
