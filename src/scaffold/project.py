"""An existing generated project: where it is, what it answered, and whether it may be changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from scaffold.errors import (
    BadAnswersFile,
    DirtyWorkingTree,
    MergeInProgress,
    NotAGitRepository,
    NotAScaffoldProject,
)
from scaffold.git import git_status, run_git
from scaffold.render import ANSWERS_FILE
from scaffold.template_source import TemplateSource, resolve_template


@dataclass(frozen=True)
class Project:
    root: Path
    answers: dict[str, object]
    """Everything in `.copier-answers.yml`, Copier's `_src_path` and `_commit` included."""

    @property
    def source(self) -> TemplateSource:
        recorded = self.answers.get("_src_path")
        return resolve_template(str(recorded) if recorded else None)

    @property
    def version(self) -> str | None:
        recorded = self.answers.get("_commit")
        return None if recorded is None else str(recorded)

    def copier_data(self) -> dict[str, object]:
        return {k: v for k, v in self.answers.items() if not k.startswith("_")}


def open_project(folder: Path) -> Project:
    folder = folder.absolute()
    top = git_status(folder, "rev-parse", "--show-toplevel") if folder.is_dir() else None
    if top is None or top.code != 0:
        raise NotAGitRepository(str(folder))
    root = Path(top.out)
    answers_file = root / ANSWERS_FILE
    if not answers_file.is_file():
        raise NotAScaffoldProject(str(root))
    return Project(root, parse_answers(answers_file.read_text(encoding="utf-8"), str(answers_file)))


def parse_answers(text: str, shown: str) -> dict[str, object]:
    try:
        answers = yaml.safe_load(text)
    except yaml.YAMLError:
        raise BadAnswersFile(shown, "malformed YAML") from None
    if not isinstance(answers, dict):
        raise BadAnswersFile(shown, "expected a mapping of question: answer")
    return {str(k): v for k, v in answers.items()}


def require_clean(project: Project) -> None:
    """Refuse while a merge is under way or tracked files have uncommitted changes.

    `git status` without optional locks looks past a stale stat cache (a copied or restored
    checkout) without rewriting .git/index, so a dry run writes nothing at all.
    """
    merge_head = run_git(project.root, "rev-parse", "--git-path", "MERGE_HEAD")
    if (project.root / merge_head).exists():
        raise MergeInProgress()
    status = run_git(
        project.root, "status", "--porcelain=v2", "--untracked-files=no", "--no-renames", "-z",
        env={"GIT_OPTIONAL_LOCKS": "0"},
    )  # fmt: skip
    changed = [e.split(" ", 10 if e[0] == "u" else 8)[-1] for e in status.split("\0") if e]
    if changed:
        raise DirtyWorkingTree(changed)
