"""`scaffold check`: is this project on the current template, with the answers it was built from?

For CI across many repositories: exit 0 when nothing drifted, 1 with a report otherwise. It
renders and compares in a scratch object store (fetching a missing generation there too), so it
writes nothing into the project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scaffold.errors import ScaffoldError
from scaffold.lifecycle.objects import scratch_objects
from scaffold.lifecycle.plan import render_generation
from scaffold.lifecycle.recorded import Recorded, load_recorded, require_valid_answers
from scaffold.lifecycle.refusals import BadProjectAnswers, GenerationUnavailable, NoGeneration
from scaffold.pristine import Generations
from scaffold.project import Project, open_project

ANSWERS_CHANGED = "answers changed since the last generation ({}); run `scaffold update`"
TEMPLATE_BEHIND = "the template changed since the last generation; run `scaffold update`"
BRANCHES_MERGED = (
    "git merged {} generations made on different branches; run `scaffold update` to turn them "
    "into one, rendered from the merged answers"
)


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
    notes: list[str] = field(default_factory=list)

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
            "notes": self.notes,
        }


def check_project(folder: Path) -> CheckReport:
    project = open_project(folder)
    template = str(project.answers.get("_src_path") or "?")
    current, problems, notes = None, [], []
    with scratch_objects(project.repo) as env:
        store = Generations(project.repo, env)
        try:
            recorded = load_recorded(project, store)
            require_valid_answers(project, recorded)
        except NoGeneration as error:
            problems.append(Problem("generation-missing", error.message))
        except GenerationUnavailable as error:
            problems.append(Problem("generation-unavailable", error.message))
        except BadProjectAnswers as error:
            problems += [Problem("answers-invalid", line) for line in error.message.splitlines()]
        else:
            if recorded.fetched_from:
                notes.append(f"read the recorded generation from {recorded.fetched_from}")
            current, drift = _drift(project, store, recorded)
            problems += drift
    return CheckReport(str(project.root), template, project.version, current, problems, notes)


def _drift(
    project: Project, store: Generations, recorded: Recorded
) -> tuple[str | None, list[Problem]]:
    problems = []
    if recorded.merged_branches:
        merged = BRANCHES_MERGED.format(len(recorded.generations))
        problems.append(Problem("branches-merged", merged))
    was = {k: v for k, v in recorded.answers.items() if not k.startswith("_")}
    now = project.copier_data()
    changed = sorted(
        k for k in (was.keys() | now.keys()) - recorded.undetermined if was.get(k) != now.get(k)
    )
    if changed:
        problems.append(Problem("answers-changed", ANSWERS_CHANGED.format(", ".join(changed))))
    try:
        current = render_generation(project, store, was, None, recorded.generations)
    except ScaffoldError as error:
        return None, [*problems, Problem("template-unavailable", error.message)]
    trees = store.trees
    if not recorded.merged_branches and trees.tree_of(current.commit) != trees.tree_of(
        recorded.base
    ):
        problems.append(Problem("template-behind", TEMPLATE_BEHIND))
    return current.version, problems
