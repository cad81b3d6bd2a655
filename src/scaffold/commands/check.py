"""`scaffold check`: is this project on the current template, with the answers it was built from?

For CI across many repositories: exit 0 when nothing drifted, 1 with a report otherwise.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from scaffold.pristine import PristineBranch, scratch_objects
from scaffold.project import open_project, parse_answers
from scaffold.render import ANSWERS_FILE, render_tree

PRISTINE_MISSING = "scaffold/pristine is missing; run `scaffold update --rebuild-pristine`"
NOT_MERGED = "the last generation is not merged (an aborted update?); run `scaffold update`"
ANSWERS_CHANGED = "answers changed since the last generation ({}); run `scaffold update`"
TEMPLATE_BEHIND = "the template changed since the last generation; run `scaffold update`"


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


@dataclass(frozen=True)
class CheckReport:
    project: str
    template: str
    recorded_version: str | None
    current_version: str | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "project": self.project,
            "template": self.template,
            "recorded_version": self.recorded_version,
            "current_version": self.current_version,
            "ok": self.ok,
            "problems": [{"code": p.code, "message": p.message} for p in self.problems],
        }


def check_project(folder: Path) -> CheckReport:
    project = open_project(folder)
    branch = PristineBranch(project.root)
    tip = branch.tip()
    problems: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="scaffold-check-") as scratch:
        tree = Path(scratch) / "tree"
        render_tree(project.source, tree, project.copier_data())
        current = parse_answers((tree / ANSWERS_FILE).read_text(encoding="utf-8"), ANSWERS_FILE)
        current_version = None if current.get("_commit") is None else str(current["_commit"])
        if tip is None:
            problems.append(Problem("pristine-missing", PRISTINE_MISSING))
        else:
            problems += _drift(project.root, branch, tip, tree, project.copier_data())
    return CheckReport(
        str(project.root), project.source.recorded, project.version, current_version, problems
    )


def _drift(
    root: Path, branch: PristineBranch, tip: str, tree: Path, answers: dict[str, object]
) -> list[Problem]:
    problems: list[Problem] = []
    if not branch.is_merged():
        problems.append(Problem("update-not-merged", NOT_MERGED))
    generated = branch.read(tip, ANSWERS_FILE)
    if generated is not None:
        was = {k: v for k, v in parse_answers(generated, ANSWERS_FILE).items() if k[0] != "_"}
        if was != answers:
            changed = sorted(k for k in was.keys() | answers.keys() if was.get(k) != answers.get(k))
            problems.append(Problem("answers-changed", ANSWERS_CHANGED.format(", ".join(changed))))
    with scratch_objects(root) as env:
        scratch = PristineBranch(root, env)
        rendered = scratch.commit_tree(tree, "check", tip)
        if not scratch.same_tree(rendered, tip):
            problems.append(Problem("template-behind", TEMPLATE_BEHIND))
    return problems
