"""`scaffold add` and `scaffold remove`: an update with changed answers, under the catalog's rules.

Removing a capability deletes its files through the same merge: files the user never touched go
quietly; a file the user edited becomes a modify/delete conflict, so no work is lost silently;
and while the project's own code still imports a module the capability brought, `remove`
refuses (or goes ahead with `force`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from scaffold.catalog import CATALOG
from scaffold.commands.update import UpdateResult, run_change
from scaffold.errors import ForbiddenCombination, ScaffoldError
from scaffold.lifecycle.plan import Change
from scaffold.lifecycle.refusals import BadProjectAnswers
from scaffold.project import Project, open_project
from scaffold.selection import Request, resolve


def add_capabilities(
    folder: Path,
    names: Sequence[str],
    variants: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> UpdateResult:
    _require_names(names, "add")
    project = open_project(folder)
    present = _present(project)
    request = Request(
        base=present, with_=tuple(names), variants={**_variants(project), **(variants or {})}
    )
    selection = resolve(request)
    new = sorted(selection.capabilities - {n for n, on in present.items() if on})
    if not new:
        raise ScaffoldError(f"the project already has {', '.join(names)}; nothing to add")
    data = {**project.copier_data(), **selection.copier_data()}
    change = Change(data, f"scaffold add {' '.join(new)}")
    return run_change(project, change, f"add {' '.join(new)}", dry_run)


def remove_capabilities(
    folder: Path, names: Sequence[str], dry_run: bool = False, force: bool = False
) -> UpdateResult:
    _require_names(names, "remove")
    project = open_project(folder)
    present = _present(project)
    for name in names:
        if CATALOG.get(name) is None:
            resolve(Request(with_=(name,)))  # raises UnknownCapability with a suggestion
        if not present.get(name) and len(project.records) < 2:  # merged branches may have it
            raise ScaffoldError(f"the project does not have {name}; nothing to remove")
    remaining = {n for n, on in present.items() if on} - set(names)
    for name in sorted(remaining):
        capability = CATALOG.get(name)
        needed = sorted(set(names) & capability.requires) if capability else []
        if needed:
            raise ForbiddenCombination(
                f"cannot remove {needed[0]}: {name} requires it (remove {name} as well)"
            )
    selection = resolve(Request(base=present, without=tuple(names), variants=_variants(project)))
    data = {
        k: v for k, v in project.copier_data().items() if k not in _variant_keys_of(names)
    } | selection.copier_data()
    removed = sorted(set(names))
    change = Change(
        data, f"scaffold remove {' '.join(removed)}", removing=frozenset(removed), force=force
    )
    return run_change(project, change, f"remove {' '.join(removed)}", dry_run)


def _require_names(names: Sequence[str], command: str) -> None:
    if not names:
        example = CATALOG.available[0].name if CATALOG.available else "NAME"
        raise ScaffoldError(
            f"name the capabilities to {command}, e.g. `scaffold {command} {example}` "
            "(`scaffold list` shows them)"
        )


def _present(project: Project) -> dict[str, bool]:
    answers = project.answers
    wrong = [f"{c.name} must be true or false, not {answers[c.name]!r}"
             for c in CATALOG if not isinstance(answers.get(c.name, False), bool)]  # fmt: skip
    if wrong:
        raise BadProjectAnswers(project.answers_file, wrong)
    return {c.name: answers.get(c.name) is True for c in CATALOG.available}


def _variants(project: Project) -> dict[str, str]:
    present = _present(project)
    return {
        key: str(project.answers[key])
        for c, v in CATALOG.variants()
        if (key := c.answer_key(v)) in project.answers and present.get(c.name)
    }


def _variant_keys_of(names: Sequence[str]) -> set[str]:
    return {c.answer_key(v) for c, v in CATALOG.variants() if c.name in names}
