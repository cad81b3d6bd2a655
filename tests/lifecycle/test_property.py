"""Property: whatever a user changed, an update keeps it or reports it inside a conflict.

A small team template (git tags v1 and v2) is built once per module. Its v2 modifies lines of one
file, deletes one, renames one and adds one. Each example copies the project generated at v1,
commits random user edits (lines changed, inserted, appended, deleted; files added, deleted,
renamed), runs the update (or `add`/`remove` when the catalog offers `caching`) and compares the
result with what each side changed: untouched files are byte-identical, one-sided changes arrive
exactly, and conflicts only where both sides touched the same file; an aborted merge restores the
working tree byte for byte.

Examples: 25 locally, 200 when CI is set (or SCAFFOLD_MATRIX=full).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from scaffold.catalog import CATALOG
from scaffold.commands.change import add_capabilities, remove_capabilities
from scaffold.commands.update import UpdateResult, update_project
from scaffold.pristine import start_history
from scaffold.render import ANSWERS_FILE, render_project, render_tree
from scaffold.template_source import resolve_template
from tests.support.disk import snapshot
from tests.support.team_template import make_template_repo, release

settings.register_profile("ci", max_examples=200, deadline=None, database=None)
settings.register_profile("dev", max_examples=25, deadline=None, database=None)
FULL = bool(os.environ.get("CI")) or os.environ.get("SCAFFOLD_MATRIX") == "full"
PROFILE = settings.get_profile("ci" if FULL else "dev")

Tree = dict[str, bytes]

MODIFIED = "src/app/main.py"
DELETED = "src/app/settings.py"
RENAMED, RENAMED_TO = "docs/guide.txt", "docs/handbook.txt"
ADDED = "CHANGELOG.md"
TEMPLATE_RENAMES = {RENAMED_TO: RENAMED}
"""New path -> the v1 path the template moved there."""

USER_PATHS = (RENAMED_TO, ADDED, "src/app/extra.py", "misc/moved.txt", "notes-old.txt")
"""Where user edits create or move files: two of them collide with the template's v2."""


def _numbered(stem: str, count: int) -> str:
    return "".join(f"{stem} line {i:02d}\n" for i in range(1, count + 1))


IF_CACHING = "{% if caching %}cache{% endif %}"
TEMPLATE_V1 = {
    "copier.yml": (
        "_subdirectory: project\n"
        "_answers_file: .copier-answers.yml\n"
        "project_name:\n  type: str\n  default: demo\n"
        "caching:\n  type: bool\n  default: false\n"
    ),
    "project/{{_copier_conf.answers_file}}.jinja": (
        "# Changes here will be overwritten by Copier\n{{ _copier_answers|to_nice_yaml -}}\n"
    ),
    "project/README.md.jinja": "# {{ project_name }}\n\n" + _numbered("readme", 8),
    f"project/{MODIFIED}": _numbered("main", 14),
    f"project/{DELETED}": _numbered("settings", 8),
    f"project/{RENAMED}": _numbered("guide", 12),
    "project/config.ini": _numbered("config", 8),
    "project/notes.txt": _numbered("notes", 8),
    f"project/{IF_CACHING}/client.py": _numbered("cache client", 8),
    f"project/{IF_CACHING}/keys.py": _numbered("cache keys", 6),
}


def _release_v2(project: Path) -> None:
    main = project / MODIFIED
    lines = main.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "main line 03, improved in v2\n"
    lines[9] = "main line 10, improved in v2\n"
    lines.insert(12, "main line added in v2\n")
    main.write_text("".join(lines), encoding="utf-8")
    (project / DELETED).unlink()
    (project / RENAMED).rename(project / RENAMED_TO)
    (project / ADDED).write_text(_numbered("changelog", 4), encoding="utf-8")


class World:
    """Built once per module: the template repository and the v1 projects, with and without
    caching; ``expected`` is the v2 generation for each caching answer."""

    def __init__(
        self,
        template: Path,
        projects: dict[bool, Path],
        base: dict[bool, Tree],
        expected: dict[bool, Tree],
    ) -> None:
        self.template, self.projects, self.base, self.expected = template, projects, base, expected

    def __repr__(self) -> str:  # keeps Hypothesis's report of a failing example short
        return f"World({self.template})"


def read_tree(root: Path) -> Tree:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def worktree(root: Path) -> dict[str, str]:
    """``snapshot`` without the .git folder."""
    return {k: v for k, v in snapshot(root).items() if k != ".git" and not k.startswith(".git/")}


def git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost", *args]
    return subprocess.run(command, cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("property")
    source = root / "source"
    for name, text in TEMPLATE_V1.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text, encoding="utf-8")
    template = make_template_repo(root / "template", source)
    location = resolve_template(str(template))
    projects, base, expected = {}, {}, {}
    for caching in (False, True):
        project = root / f"v1-caching-{caching}" / "demo"
        render_project(location, project, {"project_name": "demo", "caching": caching})
        start_history(project, "Generate demo")
        projects[caching], base[caching] = project, read_tree(project)
    release(template, "v2", _release_v2)
    for caching in (False, True):
        tree = root / f"v2-caching-{caching}"
        render_tree(location, tree, {"project_name": "demo", "caching": caching}, "v2")
        expected[caching] = read_tree(tree)
    return World(template, projects, base, expected)


# --- the user's edits -------------------------------------------------------------------------

KINDS = ("change", "insert", "append", "delete-line", "delete-file", "rename", "add-file")
Edit = tuple[str, int, int]
EDITS = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 63), st.integers(0, 63)), max_size=8
)


@dataclass
class UserTree:
    """The user's side: files as lines, and the v1 path each one came from (None: new)."""

    files: dict[str, list[str]]
    origin: dict[str, str | None]
    counter: int = 0
    log: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, tree: Tree) -> UserTree:
        files = {p: t.decode().splitlines() for p, t in tree.items() if p != ANSWERS_FILE}
        return cls(files, {p: p for p in files})

    def fresh(self, what: str) -> str:
        self.counter += 1
        return f"user {what} {self.counter}"

    def apply(self, edit: Edit) -> None:
        kind, a, b = edit
        paths = sorted(self.files)
        if kind == "add-file":
            self._add(USER_PATHS[a % len(USER_PATHS)], b % 3 + 1)
            return
        if not paths:
            return
        path = paths[a % len(paths)]
        lines = self.files[path]
        at = b % (len(lines) + 1)
        if kind == "change" and lines:
            lines[b % len(lines)] = self.fresh("changed line")
        elif kind == "insert":
            lines.insert(at, self.fresh("inserted line"))
        elif kind == "append":
            lines.append(self.fresh("appended line"))
        elif kind == "delete-line" and lines:
            del lines[b % len(lines)]
        elif kind == "delete-file":
            del self.files[path], self.origin[path]
        elif kind == "rename":
            self._rename(path, USER_PATHS[b % len(USER_PATHS)])

    def _add(self, path: str, count: int) -> None:
        if path not in self.files:
            self.files[path] = [self.fresh(f"file {path} line") for _ in range(count)]
            self.origin[path] = None

    def _rename(self, path: str, to: str) -> None:
        if to not in self.files:
            self.files[to] = self.files.pop(path)
            self.origin[to] = self.origin.pop(path)

    def tree(self, answers: bytes) -> Tree:
        tree = {
            p: "".join(f"{line}\n" for line in lines).encode() for p, lines in self.files.items()
        }
        return {**tree, ANSWERS_FILE: answers}


def commit_user_edits(project: Path, base: Tree, user: Tree) -> None:
    for path in base.keys() - user.keys():
        (project / path).unlink()
        for folder in (project / path).parents:
            if folder == project or any(folder.iterdir()):
                break
            folder.rmdir()  # as `git rm` does: git keeps no empty folders
    for path, content in user.items():
        if base.get(path) != content:
            (project / path).parent.mkdir(parents=True, exist_ok=True)
            (project / path).write_bytes(content)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "-m", "user edits")


# --- the properties ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sides:
    base: Tree
    user: Tree
    user_origin: dict[str, str | None]
    template: Tree

    def touched(self, side: Tree) -> set[str]:
        return {p for p in self.base.keys() | side.keys() if self.base.get(p) != side.get(p)}

    def related(self, path: str) -> set[str]:
        """The path and the v1 paths it came from, on either side.

        A path on neither side is git's directory-rename detection at work: the user moved
        every file out of a folder, so git proposes the template's new file in the new folder
        (and reports it as a conflict); it stands for the template's file of that name.
        """
        found = {path} | {
            p for p in (self.user_origin.get(path), TEMPLATE_RENAMES.get(path)) if p is not None
        }
        if path not in self.base.keys() | self.user.keys() | self.template.keys():
            found |= {p for p in self.template if PurePosixPath(p).name == PurePosixPath(path).name}
        return found | {TEMPLATE_RENAMES[p] for p in found if p in TEMPLATE_RENAMES}

    def moved_by_template(self, path: str) -> list[str]:
        origin = self.user_origin.get(path)
        return [new for new, old in TEMPLATE_RENAMES.items() if old == origin and new != path]


def lines_of(content: bytes | None) -> set[str]:
    return set(content.decode().splitlines()) if content is not None else set()


def assert_nothing_lost(sides: Sides, result: Tree, conflicts: list[str]) -> None:
    by_user, by_template = sides.touched(sides.user), sides.touched(sides.template)
    both = by_user & by_template
    for path in conflicts:
        assert sides.related(path) & both, f"conflict on {path}, which one side only touched"
    in_conflict = set().union(*(sides.related(p) for p in conflicts))

    for path in sides.base.keys() - by_user - by_template:
        assert result.get(path) == sides.base[path], f"{path}: nobody changed it, yet it changed"
    for path in by_template:
        if not sides.related(path) & (by_user | in_conflict):
            assert result.get(path) == sides.template.get(path), f"{path}: template change lost"
    for path in by_user:
        if not sides.related(path) & (by_template | in_conflict):
            assert result.get(path) == sides.user.get(path), f"{path}: user change lost"
    for path in by_user & sides.user.keys():
        _assert_user_lines_kept(
            sides, path, result, conflicted=bool(sides.related(path) & in_conflict)
        )
    moved_away = {o for p, o in sides.user_origin.items() if o not in (None, p)}
    for path in by_user - sides.user.keys():
        assert path not in result or path in in_conflict, f"{path}: the user deleted it"
        if path in by_template and path in sides.template and path not in moved_away:
            assert path in in_conflict, f"{path}: changed by the template, deleted by the user"


def _assert_user_lines_kept(sides: Sides, path: str, result: Tree, conflicted: bool) -> None:
    origin = sides.user_origin.get(path)
    was = lines_of(sides.base.get(origin)) if origin else set()
    now = lines_of(sides.user[path])
    added, removed = now - was, was - now
    places = [p for p in (path, *sides.moved_by_template(path)) if p in result]
    kept = [p for p in places if added <= lines_of(result[p])]
    assert kept, f"{path}: the user's lines {sorted(added - lines_of(result.get(path)))} are lost"
    if conflicted:
        return
    merged = lines_of(result[kept[0]])
    assert not removed & merged, f"{path}: lines the user deleted came back"
    for new, old in _template_versions(sides, origin):
        template_added = lines_of(sides.template[new]) - lines_of(sides.base[old])
        template_removed = lines_of(sides.base[old]) - lines_of(sides.template[new])
        assert template_added <= merged, f"{path}: the template's new lines are missing"
        assert not template_removed & merged, f"{path}: lines the template removed remain"


def _template_versions(sides: Sides, origin: str | None) -> Iterator[tuple[str, str]]:
    if origin is None or origin not in sides.base:
        return
    for new in sides.template:
        if TEMPLATE_RENAMES.get(new, new) == origin:
            yield new, origin


# --- the test ---------------------------------------------------------------------------------

CAN_CHANGE_CAPABILITIES = bool((c := CATALOG.get("caching")) and c.available)
CHANGES = ("update", "add", "remove") if CAN_CHANGE_CAPABILITIES else ("update",)
Run = Callable[[Path, bool], UpdateResult]
RUNS: dict[str, tuple[bool, bool, Run]] = {
    "update": (False, False, lambda p, dry: update_project(p, to="v2", dry_run=dry)),
    "add": (False, True, lambda p, dry: add_capabilities(p, ["caching"], dry_run=dry)),
    "remove": (True, False, lambda p, dry: remove_capabilities(p, ["caching"], dry_run=dry)),
}
"""Each change: caching before, caching after, how to run it."""


@settings(PROFILE)
@given(edits=EDITS, change=st.sampled_from(CHANGES), preview=st.booleans())
def test_every_user_edit_survives_or_is_a_reported_conflict(
    world: World, edits: list[Edit], change: str, preview: bool
) -> None:
    caching_before, caching_after, run = RUNS[change]
    base = world.base[caching_before]
    user_side = UserTree.of(base)
    for edit in edits:
        user_side.apply(edit)
    user = user_side.tree(base[ANSWERS_FILE])
    sides = Sides(base, user, user_side.origin, world.expected[caching_after])

    with tempfile.TemporaryDirectory(prefix="scaffold-property-") as scratch:
        project = Path(scratch) / "demo"
        shutil.copytree(world.projects[caching_before], project, symlinks=True)
        commit_user_edits(project, base, user)
        head = git(project, "rev-parse", "HEAD")
        before = worktree(project)

        predicted: list[str] | None = None
        if preview:
            everything = snapshot(project)
            dry = run(project, True)
            assert snapshot(project) == everything, "--dry-run touched the project"
            predicted = dry.conflicts

        outcome = run(project, False)
        result = read_tree(project)
        unmerged = sorted(set(git(project, "diff", "--name-only", "--diff-filter=U").split()))
        assert sorted(outcome.conflicts) == unmerged
        assert (outcome.status == "conflicts") == bool(unmerged)
        if predicted is not None:
            assert sorted(predicted) == unmerged, "--dry-run predicted other conflicts"
        assert_nothing_lost(sides, result, outcome.conflicts)
        event(f"{change}: {outcome.status}")
        for path in outcome.conflicts:
            event(f"conflict on {path}")

        if outcome.conflicts:
            git(project, "cherry-pick", "--abort")
            assert worktree(project) == before, "git cherry-pick --abort did not restore the tree"
            assert git(project, "rev-parse", "HEAD") == head
        else:
            assert outcome.status == "merged"
            assert git(project, "status", "--porcelain") == ""
            assert result.keys() <= base.keys() | user.keys() | sides.template.keys()
