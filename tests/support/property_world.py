"""The world of the lifecycle property tests: a small team template (git tags v1 and v2) and
projects generated from it at v1, with and without the first capability.

The template asks about every available capability of the catalog. Each has its own folder
(`src/app/<name>/`) and one wiring line in `src/app/wiring.py`, right next to the others, as
in the packaged template, so two branches that each add one collide there under git's merge.
v2 modifies lines of one file, deletes one, renames one and adds one.

Rendering is the slow part and is not what these tests are about: ``remembered_renders``
(tests/support/remembered_renders.py) keeps each distinct render and copies it the next time.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scaffold.catalog import CATALOG
from scaffold.pristine import start_history
from scaffold.render import render_project, render_tree
from scaffold.template_source import resolve_template
from tests.support.team_template import make_template_repo, release

Tree = dict[str, bytes]
CAPABILITIES = tuple(c.name for c in CATALOG.available)
FIRST = CAPABILITIES[0]

MODIFIED = "src/app/main.py"
DELETED = "src/app/settings.py"
RENAMED, RENAMED_TO = "docs/guide.txt", "docs/handbook.txt"
ADDED = "CHANGELOG.md"
WIRING = "src/app/wiring.py"
TEMPLATE_RENAMES = {RENAMED_TO: RENAMED}
"""New path -> the v1 path the template moved there."""


def numbered(stem: str, count: int) -> str:
    return "".join(f"{stem} line {i:02d}\n" for i in range(1, count + 1))


def own_folder(capability: str) -> str:
    return f"src/app/{capability}"


def _template_v1() -> dict[str, str]:
    questions = "".join(f"{name}:\n  type: bool\n  default: false\n" for name in CAPABILITIES)
    wiring = "".join(
        f"{{% if {name} %}}import app.{name}  # {name} wiring\n{{% endif %}}"
        for name in CAPABILITIES
    )
    files = {
        "copier.yml": (
            "_subdirectory: project\n_answers_file: .copier-answers.yml\n"
            f"project_name:\n  type: str\n  default: demo\n{questions}"
        ),
        "project/{{_copier_conf.answers_file}}.jinja": (
            "# Changes here will be overwritten by Copier\n{{ _copier_answers|to_nice_yaml -}}\n"
        ),
        "project/README.md.jinja": "# {{ project_name }}\n\n" + numbered("readme", 8),
        f"project/{MODIFIED}": numbered("main", 14),
        f"project/{DELETED}": numbered("settings", 8),
        f"project/{RENAMED}": numbered("guide", 12),
        f"project/{WIRING}.jinja": f"# wiring begins\n{wiring}# wiring ends\n",
        "project/config.ini": numbered("config", 8),
        "project/notes.txt": numbered("notes", 8),
    }
    for name in CAPABILITIES:
        own = f"project/src/app/{{% if {name} %}}{name}{{% endif %}}"
        files[f"{own}/client.py"] = numbered(f"{name} client", 8)
        files[f"{own}/keys.py"] = numbered(f"{name} keys", 6)
    return files


def _release_v2(project: Path) -> None:
    main = project / MODIFIED
    lines = main.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "main line 03, improved in v2\n"
    lines[9] = "main line 10, improved in v2\n"
    lines.insert(12, "main line added in v2\n")
    main.write_text("".join(lines), encoding="utf-8")
    (project / DELETED).unlink()
    (project / RENAMED).rename(project / RENAMED_TO)
    (project / ADDED).write_text(numbered("changelog", 4), encoding="utf-8")


@dataclass(frozen=True)
class World:
    template: Path
    projects: dict[bool, Path]
    """The project at v1, without and with the first capability."""
    base: dict[bool, Tree]
    expected: dict[bool, Tree]
    """The v2 generation, without and with the first capability."""

    def __repr__(self) -> str:  # keeps Hypothesis's report of a failing example short
        return f"World({self.template})"


BOOKKEEPING = frozenset({".git", ".scaffold"})
"""git's folder and scaffold's records: not the project's files."""


def read_tree(root: Path) -> Tree:
    """The project's files, without git's folder and scaffold's records (its bookkeeping)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in project_files(root)}


def project_files(root: Path) -> list[Path]:
    """The paths of ``read_tree``, not read: nothing below .git (most of a project's folder,
    the object store) is even listed."""
    return sorted(_files(root))


def _files(folder: Path) -> Iterator[Path]:
    for path in folder.iterdir():
        if path.name in BOOKKEEPING:
            continue
        if path.is_dir() and not path.is_symlink():
            yield from _files(path)
        elif path.is_file():
            yield path


def git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost", *args]
    return subprocess.run(command, cwd=repo, check=True, capture_output=True, text=True).stdout


def git_code(repo: Path, *args: str) -> int:
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost", *args]
    return subprocess.run(command, cwd=repo, capture_output=True, check=False).returncode


def build_world(root: Path) -> World:
    source = root / "source"
    for name, text in _template_v1().items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text, encoding="utf-8")
    template = make_template_repo(root / "template", source)
    location = resolve_template(str(template))
    projects, base, expected = {}, {}, {}
    for on in (False, True):
        project = root / f"v1-{FIRST}-{on}" / "demo"
        render_project(location, project, {"project_name": "demo", FIRST: on})
        start_history(project, "Generate demo")
        git(project, "config", "user.name", "test")
        git(project, "config", "user.email", "test@localhost")
        projects[on], base[on] = project, read_tree(project)
    release(template, "v2", _release_v2)
    for on in (False, True):
        tree = root / f"v2-{FIRST}-{on}"
        render_tree(location, tree, {"project_name": "demo", FIRST: on}, "v2")
        expected[on] = read_tree(tree)
    return World(template, projects, base, expected)
