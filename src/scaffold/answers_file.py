"""Read an answers file: Copier's ``.copier-answers.yml`` format, so a project's own file works.

``new --answers-file`` stops at the first problem; a project's answers file (update, add,
remove, check) is checked whole, one line per problem, against the catalog and against the
questions its last generation answered (a team's template may ask more than the catalog).
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from scaffold.catalog import CATALOG, Catalog
from scaffold.errors import BadAnswersFile

TEXT_ANSWERS = ("project_name", "description")


@dataclass(frozen=True)
class Answers:
    capabilities: dict[str, bool] = field(default_factory=dict)
    variants: dict[str, str] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice (the last one would silently win)."""

    def construct_mapping(
        self, node: yaml.MappingNode, deep: bool = False
    ) -> dict[Hashable, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml_mapping(text: str, shown: str) -> dict[object, object]:
    """The mapping in ``text``; BadAnswersFile (one line) when it is anything else."""
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader
    except yaml.constructor.ConstructorError as error:
        mark = error.problem_mark
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise BadAnswersFile(shown, f"{error.problem}{where}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise BadAnswersFile(shown, f"malformed YAML{where}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BadAnswersFile(shown, "expected a mapping of question: answer")
    return raw


def load_answers(path: Path, catalog: Catalog = CATALOG) -> Answers:
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadAnswersFile(shown, "no such file") from None
    except IsADirectoryError:
        raise BadAnswersFile(shown, "it is a folder") from None
    except PermissionError:
        raise BadAnswersFile(shown, "permission denied") from None
    except UnicodeDecodeError:
        raise BadAnswersFile(shown, "it is not UTF-8 text") from None
    raw = read_yaml_mapping(text, shown)
    problems = answer_problems(raw, catalog)
    if problems:
        raise BadAnswersFile(shown, problems[0])
    return _parse(raw, catalog)


def answer_problems(
    raw: Mapping[str, object] | Mapping[object, object],
    catalog: Catalog = CATALOG,
    known: Mapping[str, object] | None = None,
) -> list[str]:
    """Every problem of the answers, one line each; ``known``: other questions and an answer
    of the type they take (from the last generation's answers file)."""
    problems = []
    for key, value in raw.items():
        if not isinstance(key, str):
            problems.append(f"question {key!r} is not a name")
        elif not key.startswith("_"):  # Copier's own bookkeeping (_src_path, _commit)
            problem = _problem(key, value, catalog, known or {})
            if problem:
                problems.append(problem)
    return problems


def _problem(key: str, value: object, catalog: Catalog, known: Mapping[str, object]) -> str | None:
    variants = {c.answer_key(v): v for c, v in catalog.variants()}
    if key in catalog.names:
        return None if isinstance(value, bool) else f"{key} must be true or false, not {value!r}"
    if key in variants or key in TEXT_ANSWERS:
        if not isinstance(value, str):
            return f"{key} must be text, not {value!r}"
        choices = variants[key].choices if key in variants else ()
        if choices and value not in choices:
            return f"{key} must be one of {', '.join(choices)}, not {value!r}"
        return None
    if key in known:
        expected = known[key]
        same = isinstance(value, type(expected)) or expected is None or value is None
        return None if same else f"{key} must be like {expected!r}, not {value!r}"
    names = (*catalog.names, *sorted(variants), *TEXT_ANSWERS, *known)
    match = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    hint = f"; did you mean {match[0]!r}?" if match else ""
    return f"unknown question {key!r}{hint}"


def _parse(raw: Mapping[object, object], catalog: Catalog) -> Answers:
    answers = Answers()
    variant_keys = {c.answer_key(v) for c, v in catalog.variants()}
    for key, value in raw.items():
        if not isinstance(key, str) or key.startswith("_"):
            continue
        if key in catalog.names and isinstance(value, bool):
            answers.capabilities[key] = value
        elif key in variant_keys and isinstance(value, str):
            answers.variants[key] = value
        elif key in TEXT_ANSWERS and isinstance(value, str):
            answers.text[key] = value
    return answers
