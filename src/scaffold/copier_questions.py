"""The template's ``copier.yml``, derived from the catalog: plain Copier asks the same questions."""

from __future__ import annotations

import yaml

from scaffold.catalog import CATALOG, Catalog
from scaffold.names import MAX_LENGTH, MIN_LENGTH, PATTERN

HEADER = """\
# Generated from src/scaffold/catalog.py by `python -m scaffold.sync --write`.
# Do not edit by hand: tests/test_sync.py fails when this file drifts from the catalog.
"""

SETTINGS: dict[str, object] = {
    "_min_copier_version": "9.4",
    "_subdirectory": "project",
    "_templates_suffix": ".jinja",
    "_answers_file": ".copier-answers.yml",
}


def questions(catalog: Catalog = CATALOG) -> dict[str, object]:
    # Plain Copier checks the shape and length; `scaffold new` checks everything in names.py.
    pattern = f"^(?=.{{{MIN_LENGTH},{MAX_LENGTH}}}$)" + PATTERN.pattern + "$"
    result: dict[str, object] = {
        "project_name": {
            "type": "str",
            "help": f"Project name ({MIN_LENGTH}-{MAX_LENGTH} lowercase letters, digits, "
            "'-' or '_'; starts with a letter)",
            "validator": "{% if not (project_name | regex_search('"
            + pattern
            + "')) %}invalid project name{% endif %}",
        },
        "package_name": {
            "type": "str",
            "default": "{{ project_name | replace('-', '_') }}",
            "when": False,
        },
        "description": {
            "type": "str",
            "help": "One line that says what the service does",
            "default": "The {{ project_name }} service",
        },
    }
    for capability in catalog.available:
        result[capability.name] = {
            "type": "bool",
            "help": f"{capability.title}: {capability.help}",
            "default": False,
        }
        for variant in capability.variants:
            result[capability.answer_key(variant)] = {
                "type": "str",
                "help": f"{capability.title}: {variant.help}",
                "choices": list(variant.choices),
                "default": variant.default,
                "when": "{{ " + capability.name + " }}",
            }
    # Computed after the capabilities they depend on; Copier evaluates questions in order.
    for service, users in catalog.services().items():
        offered = [c.name for c in users if c.available]
        result[f"needs_{service}"] = {
            "type": "bool",
            "default": "{{ " + " or ".join(offered) + " }}" if offered else False,
            "when": False,
        }
    return result


def render_copier_yml(catalog: Catalog = CATALOG) -> str:
    body = yaml.safe_dump(
        {**SETTINGS, **questions(catalog)}, sort_keys=False, width=100, allow_unicode=True
    )
    return HEADER + body
