"""An existing generated project: where it is, what it answered, and whether it may be changed.

A project is a service folder inside a git work tree: the repository's top, or any folder below
it (a monorepo keeps several side by side). It is found from any folder inside it by its
generation records (`.scaffold/generations/`) or its `.copier-answers.yml`; the records also
name the answers file when the template chose another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scaffold.answers_file import read_yaml_mapping
from scaffold.errors import (
    BadAnswersFile,
    NotAGitRepository,
    NotAScaffoldProject,
    ScaffoldError,
)
from scaffold.git import enclosing_work_tree
from scaffold.lifecycle.records import RECORDS, Record, read_records
from scaffold.render import ANSWERS_FILE
from scaffold.template_source import TemplateSource, resolve_template


@dataclass(frozen=True)
class Project:
    repo: Path
    """The top of the git work tree."""
    root: Path
    """The service's folder: ``repo`` itself, or a folder below it."""
    answers_file: str
    """Relative to ``root``."""
    answers: dict[str, object]
    """Everything in the answers file, Copier's `_src_path` and `_commit` included."""
    records: tuple[Record, ...]

    @property
    def prefix(self) -> str:
        """The service's folder relative to the repository: "" at its top."""
        relative = self.root.relative_to(self.repo).as_posix()
        return "" if relative == "." else relative

    def path(self, relative: str) -> str:
        """A path of the service as a path of the repository."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def paths_inside(self, paths: list[str]) -> list[str]:
        """Those of the repository's ``paths`` inside the service, as paths of the service."""
        if not self.prefix:
            return paths
        inside = f"{self.prefix}/"
        return [path.removeprefix(inside) for path in paths if path.startswith(inside)]

    @property
    def generations(self) -> list[str]:
        return [record.commit for record in self.records]

    @property
    def source(self) -> TemplateSource:
        recorded = self.answers.get("_src_path")
        if not recorded:
            raise ScaffoldError(
                f"{self.answers_file} has no _src_path, so scaffold cannot tell which template "
                "made the project; put the line back (e.g. `_src_path: scaffold:service`)"
            )
        return resolve_template(str(recorded))

    @property
    def version(self) -> str | None:
        recorded = self.answers.get("_commit")
        return None if recorded is None else str(recorded)

    def copier_data(self) -> dict[str, object]:
        return {k: v for k, v in self.answers.items() if not k.startswith("_")}


def open_project(folder: Path) -> Project:
    folder = folder.absolute()
    repo = enclosing_work_tree(folder)
    if repo is None:
        raise NotAGitRepository(str(folder))
    root = _service_root(folder.resolve(), repo.resolve())
    if root is None:
        raise NotAScaffoldProject(str(folder))
    records = tuple(read_records(root))
    answers_file = records[0].answers_file if records else ANSWERS_FILE
    path = root / answers_file
    if not path.is_file():
        raise NotAScaffoldProject(str(root))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadAnswersFile(str(path), "it is not UTF-8 text") from None
    raw = read_yaml_mapping(text, str(path))
    answers = {str(key): value for key, value in raw.items()}
    return Project(repo.resolve(), root, answers_file, answers, records)


def _service_root(folder: Path, repo: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / RECORDS).is_dir() or (candidate / ANSWERS_FILE).is_file():
            return candidate
        if candidate == repo:
            return None
    return None
