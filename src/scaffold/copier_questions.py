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
    for service, condition in service_conditions(catalog).items():
        result[f"needs_{service}"] = {"type": "bool", "default": condition, "when": False}
    result["parts"] = _computed_list(wiring_parts(catalog))
    result["python_packages"] = _computed_list(wiring_packages(catalog))
    return result


def service_conditions(catalog: Catalog = CATALOG) -> dict[str, str]:
    """`needs_<service>` per backing service: a Jinja expression over the capability answers."""
    conditions: dict[str, list[str]] = {}
    for capability in catalog.available:
        for service in sorted(capability.services):
            conditions.setdefault(service, []).append(capability.name)
        for variant in capability.variants:
            key = capability.answer_key(variant)
            for choice, service in variant.services:
                conditions.setdefault(service, []).append(
                    f"({capability.name} and {key} == '{choice}')"
                )
    return {
        service: "{{ " + " or ".join(found) + " }}" for service, found in sorted(conditions.items())
    }


def wiring_parts(catalog: Catalog = CATALOG) -> list[tuple[str, str]]:
    """(part, condition) in wiring order: backing services first, then capabilities.

    A part is what contributes its own files to the shared non-Python files (compose, CI,
    Terraform, README): `parts/<part>/...` in the template.
    """
    services = [(service, f"needs_{service}") for service in service_conditions(catalog)]
    return services + [(c.name, c.name) for c in catalog.available]


def wiring_packages(catalog: Catalog = CATALOG) -> list[tuple[str, str]]:
    """(Python package, condition) in wiring order: what the generated list imports (only the
    capabilities with a runtime part: `Capability.wired_package`)."""
    services = [
        (package, f"needs_{service}")
        for service in service_conditions(catalog)
        if (package := catalog.service(service).package)
    ]
    return services + [(c.wired_package, c.name) for c in catalog.available if c.wired_package]


def _computed_list(items: list[tuple[str, str]]) -> dict[str, object]:
    terms = [f"(['{name}'] if {condition} else [])" for name, condition in items]
    return {"type": "yaml", "default": "{{ " + (" + ".join(terms) or "[]") + " }}", "when": False}


def render_copier_yml(catalog: Catalog = CATALOG) -> str:
    body = yaml.safe_dump(
        {**SETTINGS, **questions(catalog)}, sort_keys=False, width=100, allow_unicode=True
    )
    return HEADER + body
