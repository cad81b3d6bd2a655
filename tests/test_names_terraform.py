"""No name `scaffold new` accepts can make the generated Terraform build an invalid AWS name.

The Terraform of the fullest combination is rendered for the extreme names the tool accepts and
parsed with python-hcl2; every attribute that names an AWS resource and depends on the project
name (directly, or through the ``for_each``/``count`` that makes its instances) is evaluated from
the Terraform's own expressions (suffixes, truncations, ``for`` expressions) for every
combination of the smallest, largest and default values that the validations of its other
inputs accept (the environment, a count of instances), and checked against AWS's rules
(tests/support/aws_names.py). The tool's bounds must also be tight: one character beyond them
breaks a rule of the Terraform or of AWS.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scaffold.catalog import CATALOG
from scaffold.errors import InvalidProjectName
from scaffold.names import MAX_LENGTH, MIN_LENGTH, PATTERN, validate_project_name
from scaffold.render import render_tree
from scaffold.selection import Request, resolve
from scaffold.template_source import resolve_template
from tests.support.aws_names import (
    DESCRIPTION,
    RULES,
    TAG_VALUE,
    NameRule,
    is_naming_attribute,
)
from tests.support.terraform import (
    Configuration,
    Evaluator,
    Resource,
    Unsupported,
    attributes,
    load,
    lookup,
)

FULLEST = tuple(c.name for c in CATALOG.available)
LONGEST_SCAN = 80


def render_terraform(name: str, folder: Path) -> Configuration:
    """The fullest combination's Terraform for ``name``, rendered by Copier without the tool's
    name check (so names the tool refuses can be shown to break something)."""
    data = {"project_name": name, **resolve(Request(with_=FULLEST)).copier_data()}
    project = folder / name
    render_tree(resolve_template(None), project, data)
    return load(project / "deploy" / "terraform")


SEPARATED = ("a_9-" * MAX_LENGTH)[: MAX_LENGTH - 1] + "9"
"""The longest name with both separators and digits: ``a_9-a_9-…9``."""


def extreme_names() -> list[str]:
    return ["a" + "9" * (MIN_LENGTH - 1), "a" * MAX_LENGTH, SEPARATED]


def _squashed(text: str) -> str:
    return re.sub(r"[-_]", "", text)


def name_variables(configuration: Configuration, project: str) -> set[str]:
    """The variables whose default is the project name in some form (``_`` or ``-``)."""
    evaluator = Evaluator(configuration, {})
    found = set()
    for name, block in configuration.variables.items():
        if isinstance(block.get("default"), str):
            value = evaluator.value(block["default"])
            if isinstance(value, str) and _squashed(value) == _squashed(project):
                found.add(name)
    assert found, "no variable carries the project name"
    return found


def _references(raw: Any, kind: str) -> set[str]:
    return set(re.findall(rf"\b{kind}\.(\w+)", str(raw)))


def name_locals(configuration: Configuration, variables: set[str]) -> set[str]:
    derived: set[str] = set()
    while True:
        more = {
            name
            for name, raw in configuration.locals.items()
            if _references(raw, "var") & variables or _references(raw, "local") & derived
        }
        if more <= derived:
            return derived
        derived |= more


def _built_from(resource: Resource, raw: Any) -> str:
    """An attribute's expression with what it reads through ``each`` and ``count``: a name
    written ``each.value.identifier`` is built by the resource's ``for_each``."""
    text = str(raw)
    for key, marker in (("for_each", r"\beach\."), ("count", r"\bcount\.index\b")):
        if key in resource.body and re.search(marker, text):
            text += f" {resource.body[key]}"
    return text


def _variables_behind(configuration: Configuration, text: str) -> set[str]:
    """Every variable an expression reads, directly or through locals."""
    found, seen, pending = _references(text, "var"), set(), _references(text, "local")
    while pending:
        name = pending.pop()
        seen.add(name)
        raw = configuration.locals.get(name, "")
        found |= _references(raw, "var")
        pending |= _references(raw, "local") - seen
    return found


NamedAttribute = tuple[Resource, str, Any, NameRule, bool]


def named_attributes(configuration: Configuration, variables: set[str]) -> list[NamedAttribute]:
    return _named_attributes(configuration, frozenset(variables))


@functools.cache
def _named_attributes(
    configuration: Configuration, variables: frozenset[str]
) -> list[NamedAttribute]:
    return list(_find_named_attributes(configuration, variables))


def _find_named_attributes(
    configuration: Configuration, variables: frozenset[str]
) -> Iterator[NamedAttribute]:
    """Each attribute built from the name's variables that AWS judges: names (strict: an
    expression this cannot evaluate fails the test), tags and descriptions."""
    locals_ = name_locals(configuration, set(variables))
    for resource in configuration.resources:
        for path in attributes(resource.body):
            raw = lookup(resource.body, path)
            built = _built_from(resource, raw)
            if not (_references(built, "var") & variables or _references(built, "local") & locals_):
                continue
            where = f"{resource.type}.{resource.label}.{'.'.join(path)}"
            if "tags" in path or path[-1] == "description":
                yield resource, where, raw, (TAG_VALUE if "tags" in path else DESCRIPTION), False
            elif is_naming_attribute(path[-1]):
                found = RULES.get((resource.type, path[-1]))
                assert found is not None, f"{where}: no AWS naming rule known; add it to aws_names"
                yield resource, where, raw, found, True


def inputs_of_names(configuration: Configuration, variables: set[str]) -> set[str]:
    """Other variables that AWS names are built from (the environment, counts of instances)."""
    used = set().union(
        *(
            _variables_behind(configuration, _built_from(resource, raw))
            for resource, _, raw, _, strict in named_attributes(configuration, variables)
            if strict
        )
    )
    return used - variables


def _candidates(block: dict[str, Any]) -> list[Any]:
    if block.get("type") == "number":
        return list(range(LONGEST_SCAN))
    return ["a" * k for k in range(1, LONGEST_SCAN)]


def valid_values(configuration: Configuration, variable: str) -> list[Any]:
    """The smallest and largest values its validation accepts (``a``s for a string, whole
    numbers from 0 for a number), and its default."""
    block = configuration.variables[variable]
    validations = block.get("validation", [])
    assert validations, f"var.{variable} builds AWS names but has no validation to bound it"

    def accepted(value: Any) -> bool:
        evaluator = Evaluator(configuration, {variable: value})
        return all(evaluator.value(v["condition"]) is True for v in validations)

    candidates = _candidates(block)
    valid = [value for value in candidates if accepted(value)]
    assert valid and valid[-1] != candidates[-1], f"var.{variable} is not bounded"
    default = Evaluator(configuration, {}).value(block["default"])
    return sorted({valid[0], valid[-1], default}, key=lambda value: (len(str(value)), value))


def problems(configuration: Configuration, overrides: dict[str, Any]) -> list[str]:
    """Every invalid AWS name, and every failed validation of the name's variables."""
    variables = {v for v in overrides if v in configuration.variables}
    evaluator = Evaluator(configuration, overrides)
    found = []
    for variable in sorted(variables):
        for validation in configuration.variables[variable].get("validation", []):
            if evaluator.value(validation["condition"]) is not True:
                found.append(f"var.{variable}: {evaluator.value(validation['error_message'])}")
    found += [problem for problem in _aws_name_problems(configuration, evaluator)]
    return found


def _aws_name_problems(configuration: Configuration, evaluator: Evaluator) -> Iterator[str]:
    variables = set(evaluator.overrides)
    for resource, where, raw, rule, strict in named_attributes(configuration, variables):
        try:
            values = [
                evaluator.value(raw, scope) for scope in evaluator.instances(resource.body, raw)
            ]
        except Unsupported:
            if strict:
                raise
            continue  # a tag or description that also uses data sources
        for value in values:
            problem = rule.problem(str(value))
            if problem:
                yield f"{where}: {problem}"


def overrides_for(configuration: Configuration, project: str) -> Iterator[dict[str, Any]]:
    """The name's own variables as rendered, with every combination of each valid extreme of
    the other inputs."""
    variables = name_variables(configuration, project)
    evaluator = Evaluator(configuration, {})
    own = {v: evaluator.value(configuration.variables[v]["default"]) for v in variables}
    inputs = sorted(inputs_of_names(configuration, variables))
    assert "environment" in inputs, inputs
    for values in itertools.product(*(valid_values(configuration, i) for i in inputs)):
        yield {**own, **dict(zip(inputs, values, strict=True))}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Configuration]:
    """Render each name once per module: Copier takes seconds."""
    cache: dict[str, Configuration] = {}

    def get(project: str) -> Configuration:
        if project not in cache:
            cache[project] = render_terraform(project, tmp_path_factory.mktemp("terraform"))
        return cache[project]

    return get


@pytest.mark.parametrize("project", extreme_names())
def test_every_aws_name_is_valid_for_the_extreme_names_scaffold_accepts(
    project: str, rendered: Callable[[str], Configuration]
) -> None:
    assert validate_project_name(project) == project
    configuration = rendered(project)
    checked = list(overrides_for(configuration, project))
    environments = {overrides["environment"] for overrides in checked}
    assert len(environments) == 3  # shortest, longest and default environment
    for overrides in checked:
        assert problems(configuration, overrides) == [], overrides


def test_the_check_reaches_every_kind_of_aws_name(
    rendered: Callable[[str], Configuration],
) -> None:
    """The walk finds the names this test exists for; an empty walk would prove nothing."""
    configuration = rendered("a" * MAX_LENGTH)
    found = {
        (resource.type, path[-1])
        for resource in configuration.resources
        for path in attributes(resource.body)
        if (resource.type, path[-1]) in RULES
    }
    for expected in [
        ("aws_lb", "name"),
        ("aws_lb_target_group", "name"),
        ("aws_db_instance", "identifier"),
        ("aws_iam_role", "name"),
        ("aws_ecr_repository", "name"),
        ("aws_elasticache_replication_group", "replication_group_id"),
        ("aws_db_instance", "db_name"),
    ]:
        assert expected in found


@pytest.mark.parametrize("length", [MIN_LENGTH - 1, MAX_LENGTH + 1])
def test_one_character_beyond_the_bounds_breaks_a_rule(
    length: int, rendered: Callable[[str], Configuration]
) -> None:
    """The tool's bounds are the widest the artifacts allow, not an arbitrary choice."""
    project = "a" * MAX_LENGTH
    configuration = rendered(project)
    variables = name_variables(configuration, project)
    for overrides in overrides_for(configuration, project):
        beyond = {**overrides, **dict.fromkeys(variables, "a" * length)}
        if problems(configuration, beyond):
            return
    pytest.fail(f"a {length}-character name breaks no rule: widen names.py's bounds")


def names_aws_refuses() -> list[str]:
    """Project names built to hit each prefix and value that AWS's rules forbid."""
    candidates = set()
    for rule in RULES.values():
        for prefix in rule.forbidden_prefixes:
            stem = prefix.rstrip("-/")
            candidates |= {stem, f"{stem}-api", f"{stem}_api"}
        candidates |= set(sorted(rule.forbidden_values)[:3])
    return sorted(c for c in candidates if PATTERN.fullmatch(c))


def as_rendered(configuration: Configuration, sample: str, project: str) -> dict[str, str]:
    """The name's variables as the template would render them for ``project``: the template's
    own way of writing the name (``_`` or ``-``), learnt from how it wrote ``sample``."""
    evaluator = Evaluator(configuration, {})
    values = {}
    for variable in name_variables(configuration, sample):
        written = evaluator.value(configuration.variables[variable]["default"])
        assert len(written) == len(sample), (variable, written)
        mapping = {ord(a): b for a, b in zip(sample, written, strict=True) if a != b}
        values[variable] = project.translate(mapping)
    return values


@pytest.mark.parametrize("project", names_aws_refuses())
def test_a_name_that_would_break_an_aws_rule_is_refused(
    project: str, rendered: Callable[[str], Configuration]
) -> None:
    configuration = rendered(SEPARATED)
    own = as_rendered(configuration, SEPARATED, project)
    broken = [
        problem
        for overrides in overrides_for(configuration, SEPARATED)
        for problem in problems(configuration, {**overrides, **own})
    ]
    if broken:
        with pytest.raises(InvalidProjectName):
            validate_project_name(project)


def test_the_refused_names_do_break_a_rule(rendered: Callable[[str], Configuration]) -> None:
    """The previous test is not vacuous: its names include ones AWS would refuse."""
    configuration = rendered(SEPARATED)
    breaking = [
        project
        for project in names_aws_refuses()
        for overrides in overrides_for(configuration, SEPARATED)
        if problems(configuration, {**overrides, **as_rendered(configuration, SEPARATED, project)})
    ]
    assert {"internal", "sg"} <= set(breaking)
