"""Read an answers file: Copier's ``.copier-answers.yml`` format, so a project's own file works."""

from __future__ import annotations

import difflib
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


def load_answers(path: Path, catalog: Catalog = CATALOG) -> Answers:
    shown = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadAnswersFile(shown, "no such file") from None
    except IsADirectoryError:
        raise BadAnswersFile(shown, "it is a folder") from None
    except PermissionError:
        raise BadAnswersFile(shown, "permission denied") from None
    except UnicodeDecodeError:
        raise BadAnswersFile(shown, "it is not UTF-8 text") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise BadAnswersFile(shown, f"malformed YAML{where}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadAnswersFile(shown, "expected a mapping of question: answer")
    return _parse(shown, raw, catalog)


def _parse(shown: str, raw: dict[object, object], catalog: Catalog) -> Answers:
    answers = Answers()
    variant_keys = {c.answer_key(v) for c, v in catalog.variants()}
    known = (*catalog.names, *sorted(variant_keys), *TEXT_ANSWERS)
    for key, value in raw.items():
        if not isinstance(key, str):
            raise BadAnswersFile(shown, f"question {key!r} is not a name")
        if key.startswith("_"):
            continue  # Copier's own bookkeeping (_src_path, _commit)
        if key in catalog.names:
            if not isinstance(value, bool):
                raise BadAnswersFile(shown, f"{key} must be true or false, not {value!r}")
            answers.capabilities[key] = value
        elif key in variant_keys or key in TEXT_ANSWERS:
            if not isinstance(value, str):
                raise BadAnswersFile(shown, f"{key} must be text, not {value!r}")
            (answers.variants if key in variant_keys else answers.text)[key] = value
        else:
            match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"; did you mean {match[0]!r}?" if match else ""
            raise BadAnswersFile(shown, f"unknown question {key!r}{hint}")
    return answers
