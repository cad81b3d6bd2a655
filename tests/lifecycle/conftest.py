"""Projects to run the lifecycle on, each built once per session and copied for every test.

- ``project``: made at v1 of a team template built from the packaged one, with three releases:
  v2 appends a `clean` target to the Makefile, deletes `.github/dependabot.yml`, renames
  `migrations/script.py.mako` to `migrations/revision.py.mako` and adds `CHANGELOG.md`;
  v3 appends a section to the README.
- ``base_project``: `scaffold new demo --yes` from the packaged template.
- ``toy_project``: made at v1 of the small template of tests/support/toy_template.py (v2
  exists), for the tests that render many times.

Every test here remembers Copier's renders of these three templates once they are final (tags
made): an update, `add` or `remove` that renders what an earlier test rendered gets a copy of
that render (tests/support/remembered_renders.py). Renders of any other template are Copier's.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scaffold.lifecycle.records import RECORDS
from scaffold.pristine import REF_PREFIX
from scaffold.template_source import packaged_template
from tests.support.cli import run_cli
from tests.support.disk import snapshot
from tests.support.remembered_renders import RenderMemory
from tests.support.team_template import make_template_repo, release
from tests.support.toy_template import make_toy_template, release_toy_v2

MAKEFILE_V2 = "\nclean: ## Remove the caches the tools leave behind\n\trm -rf .pytest_cache\n"
DELETED = ".github/dependabot.yml"
RENAMED, RENAMED_TO = "migrations/script.py.mako", "migrations/revision.py.mako"
ADDED = "CHANGELOG.md"
README_V3 = "\n## Changelog\n\nSee CHANGELOG.md.\n"


def release_v2(project: Path) -> None:
    with (project / "Makefile.jinja").open("a", encoding="utf-8") as makefile:
        makefile.write(MAKEFILE_V2)
    (project / DELETED).unlink()
    (project / RENAMED).rename(project / RENAMED_TO)
    (project / ADDED).write_text("# Changelog\n\n## v2\n\n- make clean\n", encoding="utf-8")


def release_v3(project: Path) -> None:
    with (project / "README.md.jinja").open("a", encoding="utf-8") as readme:
        readme.write(README_V3)


@pytest.fixture(scope="session")
def render_memory(tmp_path_factory: pytest.TempPathFactory) -> RenderMemory:
    """The renders of this session's final templates: the packaged one, and the team's and the
    toy's once their fixtures have made their releases (they add themselves)."""
    return RenderMemory(tmp_path_factory.mktemp("renders"), {str(packaged_template())})


@pytest.fixture(autouse=True)
def remembered(render_memory: RenderMemory) -> Iterator[None]:
    with render_memory.in_use():
        yield


@dataclass(frozen=True)
class Team:
    template: Path
    project_at_v1: Path


@pytest.fixture(scope="session")
def team(tmp_path_factory: pytest.TempPathFactory, render_memory: RenderMemory) -> Team:
    root = tmp_path_factory.mktemp("team")
    template = make_template_repo(root / "template")
    made = run_cli("new", "demo", "--yes", "--template", str(template), "--output-dir", str(root))
    assert made.exit_code == 0, made.stderr
    release(template, "v2", release_v2)
    release(template, "v3", release_v3)
    render_memory.remember(template)
    return Team(template, root / "demo")


@pytest.fixture
def project(team: Team, workdir: Path) -> Path:
    """A fresh copy of the project generated at v1, in the test's work folder."""
    copy = workdir / "demo"
    shutil.copytree(team.project_at_v1, copy, symlinks=True)
    return copy


@pytest.fixture(scope="session")
def packaged_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("packaged")
    made = run_cli("new", "demo", "--yes", "--output-dir", str(root))
    assert made.exit_code == 0, made.stderr
    return root / "demo"


@pytest.fixture
def base_project(packaged_base: Path, workdir: Path) -> Path:
    copy = workdir / "demo"
    shutil.copytree(packaged_base, copy, symlinks=True)
    return copy


@dataclass(frozen=True)
class Toy:
    template: Path
    project_at_v1: Path


@pytest.fixture(scope="session")
def toy(tmp_path_factory: pytest.TempPathFactory, render_memory: RenderMemory) -> Toy:
    root = tmp_path_factory.mktemp("toy")
    template = make_toy_template(root / "template")
    made = run_cli("new", "demo", "--yes", "--template", str(template), "--output-dir", str(root))
    assert made.exit_code == 0, made.stderr
    release_toy_v2(template)
    render_memory.remember(template)
    return Toy(template, root / "demo")


@pytest.fixture
def toy_project(toy: Toy, workdir: Path) -> Path:
    copy = workdir / "demo"
    shutil.copytree(toy.project_at_v1, copy, symlinks=True)
    git(copy, "config", "user.name", "test")
    git(copy, "config", "user.email", "test@localhost")
    return copy


def repo_state(repo: Path) -> dict[str, object]:
    """Everything a refusal must leave as it was: refs (HEAD, pseudo-refs), index, files."""
    refs = git(repo, "for-each-ref", "--format=%(objectname) %(refname)")
    head = subprocess.run(["git", "rev-parse", "--symbolic-full-name", "HEAD", "HEAD"],
                          cwd=repo, capture_output=True, text=True, check=False).stdout  # fmt: skip
    git_dir = Path(git(repo, "rev-parse", "--absolute-git-dir").strip())
    pseudo = {p.name: p.read_bytes() for p in sorted(git_dir.glob("*HEAD")) if p.is_file()}
    index = (git_dir / "index").read_bytes() if (git_dir / "index").exists() else b""
    return {"refs": refs, "head": head, "pseudo": pseudo, "index": index, "tree": worktree(repo)}


def git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost", *args]
    return subprocess.run(command, cwd=repo, check=True, capture_output=True, text=True).stdout


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(text)


def commit_all(repo: Path, message: str = "my changes") -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)


def recorded(project: Path) -> list[str]:
    """The generations the project's working tree records."""
    folder = project / RECORDS
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def forget_generations(repo: Path) -> None:
    """Lose every generation, as a clone does whose teammate never pushed refs/scaffold/*."""
    for ref in git(repo, "for-each-ref", "--format=%(refname)", REF_PREFIX).split():
        git(repo, "update-ref", "-d", ref)
    git(repo, "reflog", "expire", "--expire=now", "--all")
    git(repo, "gc", "--quiet", "--prune=now")


def worktree(root: Path) -> dict[str, str]:
    """``snapshot`` without the .git folder."""
    return snapshot(root, leave_out={".git"})
