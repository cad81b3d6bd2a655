"""Properties: whatever a user changed, on one branch or on several merged every way a team
merges them, the lifecycle keeps it or reports it inside a conflict, and loses no capability.

The world (tests/support/property_world.py) is a small team template with tags v1 and v2 and
the projects generated from it at v1. Two properties:
- one branch: random user edits (lines changed, inserted, appended, deleted; files added,
  deleted, renamed) are committed, then an update, `add` or `remove` runs; the result is
  compared with what each side changed: untouched files are byte-identical, one-sided changes
  arrive exactly, conflicts only where both sides touched the same file, and an aborted
  cherry-pick restores the working tree byte for byte;
- branches: `main`, `feat-a` and `feat-b` each get random edits (each in its own files), each
  feature branch a random update, `add` or `remove`; both are merged into `main` by
  `git merge`, `git merge --squash` or `scaffold merge` (the first two falling back to the
  third when git's merge conflicts), conflicts are resolved keeping both sides, and a last
  `scaffold update` runs. Then every line any branch added is still there, the capabilities
  are exactly those the branches added or kept, and `scaffold check` is clean.

Examples: 200 each with HYPOTHESIS_PROFILE=ci, which .ci/run sets (or when CI is set);
25 (branches: 15) otherwise.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from scaffold.commands.change import add_capabilities, remove_capabilities
from scaffold.commands.check import check_project
from scaffold.commands.update import UpdateResult, update_project
from scaffold.render import ANSWERS_FILE
from tests.support.disk import snapshot
from tests.support.property_world import (
    ADDED,
    CAPABILITIES,
    FIRST,
    RENAMED_TO,
    TEMPLATE_RENAMES,
    Tree,
    World,
    build_world,
    git,
    git_code,
    project_files,
    read_tree,
)
from tests.support.remembered_renders import remembered_renders

EXAMPLES = {"ci": (200, 200), "dev": (25, 15)}
"""Per profile, the examples of the one-branch property and of the branches property."""
PROFILE_NAME = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
assert PROFILE_NAME in EXAMPLES, f"HYPOTHESIS_PROFILE must be ci or dev, not {PROFILE_NAME}"
ONE_BRANCH_EXAMPLES, BRANCH_EXAMPLES = EXAMPLES[PROFILE_NAME]
settings.register_profile(
    PROFILE_NAME, max_examples=ONE_BRANCH_EXAMPLES, deadline=None, database=None
)
PROFILE = settings.get_profile(PROFILE_NAME)

USER_PATHS = (RENAMED_TO, ADDED, "src/app/extra.py", "misc/moved.txt", "notes-old.txt")
"""Where user edits create or move files: two of them collide with the template's v2."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("property"))
    with remembered_renders(tmp_path_factory.mktemp("renders")):
        yield built


def worktree(root: Path) -> dict[str, str]:
    """``snapshot`` without the .git folder."""
    return snapshot(root, leave_out={".git"})


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

CHANGES = ("update", "add", "remove")
Run = Callable[[Path, bool], UpdateResult]
RUNS: dict[str, tuple[bool, bool, Run]] = {
    "update": (False, False, lambda p, dry: update_project(p, to="v2", dry_run=dry)),
    "add": (False, True, lambda p, dry: add_capabilities(p, [FIRST], dry_run=dry)),
    "remove": (True, False, lambda p, dry: remove_capabilities(p, [FIRST], dry_run=dry)),
}
"""Each change: the first capability before, after, and how to run it."""


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


# --- branches ---------------------------------------------------------------------------------

BRANCHES = ("feat-a", "feat-b")
SIDES = ("main", *BRANCHES)
BRANCH_KINDS = ("change", "insert", "append", "delete-file", "add-file")
BRANCH_EDITS = st.lists(
    st.tuples(st.sampled_from(BRANCH_KINDS), st.integers(0, 63), st.integers(0, 63)), max_size=5
)
OPS = ("none", "update", *(f"{verb}:{name}" for verb in ("add", "remove") for name in CAPABILITIES))
METHODS = ("git merge", "git merge --squash", "scaffold merge")
MARKERS = ("<<<<<<< ", "=======", ">>>>>>> ", "||||||| ")


def owner(world: World, path: str) -> str | None:
    """Each side edits its own v1 files, so that the users' edits never collide; what
    collides is theirs against the template's, or the template's against itself."""
    files = sorted((world.base[False].keys() | world.base[True].keys()) - {ANSWERS_FILE})
    return SIDES[files.index(path) % len(SIDES)] if path in files else None


def edit_side(world: World, project: Path, side: str, edits: list[Edit]) -> None:
    counter = 0
    for kind, a, b in edits:
        counter += 1
        token = f"{side} edit {counter}"
        if kind == "add-file":
            path = project / f"{side}-notes-{a % 3}.txt"
            with path.open("a", encoding="utf-8") as file:
                file.write(token + "\n")
            continue
        files = (str(p.relative_to(project)) for p in project_files(project))
        mine = [p for p in sorted(files) if owner(world, p) == side]
        if not mine:
            continue
        path = project / mine[a % len(mine)]
        lines = path.read_text(encoding="utf-8").splitlines()
        if kind == "delete-file":
            path.unlink()
            continue
        if kind == "change" and lines:
            lines[b % len(lines)] = token
        elif kind == "insert":
            lines.insert(b % (len(lines) + 1), token)
        else:
            lines.append(token)
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "-m", f"{side}: user edits")


def capabilities(project: Path) -> set[str]:
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    return {name for name in CAPABILITIES if answers.get(name) is True}


def resolve_keeping_both(project: Path) -> None:
    """As a user would who wants everything: both sides' lines, and every file kept."""
    unmerged = set(git(project, "diff", "--name-only", "--diff-filter=U").split())
    for path in sorted(unmerged):
        file = project / path
        if file.exists():
            lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
            file.write_text("".join(ln for ln in lines if not ln.startswith(MARKERS)), "utf-8")
            git(project, "add", path)
        else:
            git(project, "rm", "--quiet", "--cached", path)
    git(project, "commit", "--quiet", "--no-edit", "--allow-empty")


def finish(project: Path, result: UpdateResult) -> None:
    event(f"{getattr(result, 'action', 'update').split()[0]}: {result.status}")
    if result.status == "conflicts":
        resolve_keeping_both(project)
    assert result.status in ("merged", "conflicts", "up-to-date"), result


def run_op(project: Path, op: str) -> tuple[set[str], set[str]]:
    """Run the branch's op when it applies; returns the capabilities it added and removed."""
    verb, _, name = op.partition(":")
    present = capabilities(project)
    if verb == "update":
        finish(project, update_project(project, to="v2"))
    elif verb == "add" and name not in present:
        finish(project, add_capabilities(project, [name]))
    elif verb == "remove" and name in present:
        finish(project, remove_capabilities(project, [name]))
    after = capabilities(project)
    if verb in ("add", "remove"):
        assert (name in after) == (verb == "add"), f"{op} did not {verb} {name}"
    return after - present, present - after  # an add brings what the capability requires


def merge_into_main(project: Path, branch: str, method: str) -> None:
    git(project, "switch", "--quiet", "main")
    if method != "scaffold merge":
        merged = git_code(project, *method.split()[1:], "--no-edit", branch) == 0
        event(f"{method}: {'clean' if merged else 'conflicts, so scaffold merge'}")
        if merged:
            if "--squash" in method:
                git(project, "commit", "--quiet", "--allow-empty", "-m", f"{branch} (squashed)")
            return
        git(project, "reset", "--quiet", "--merge")  # what `git merge --abort` does
    from scaffold.commands.merge import merge_branch  # the command a team uses for this

    finish(project, merge_branch(project, branch))


def added_lines(tree: Tree, side: str) -> set[str]:
    return {
        line
        for content in tree.values()
        for line in content.decode("utf-8", "replace").splitlines()
        if line.startswith(f"{side} edit ")
    }


@settings(PROFILE, max_examples=BRANCH_EXAMPLES)
@given(
    start_with_first=st.booleans(),
    edits=st.tuples(BRANCH_EDITS, BRANCH_EDITS, BRANCH_EDITS),
    ops=st.tuples(st.sampled_from(OPS), st.sampled_from(OPS)),
    methods=st.tuples(st.sampled_from(METHODS), st.sampled_from(METHODS)),
)
def test_branches_merged_any_way_lose_no_edit_and_no_capability(
    world: World,
    start_with_first: bool,
    edits: tuple[list[Edit], list[Edit], list[Edit]],
    ops: tuple[str, str],
    methods: tuple[str, str],
) -> None:
    with tempfile.TemporaryDirectory(prefix="scaffold-branches-") as scratch:
        project = Path(scratch) / "demo"
        shutil.copytree(world.projects[start_with_first], project, symlinks=True)
        expected = capabilities(project)
        kept: dict[str, set[str]] = {}
        for side, side_edits, op in zip(SIDES, edits, ("none", *ops), strict=True):
            git(project, "switch", "--quiet", "--create", side) if side != "main" else None
            edit_side(world, project, side, side_edits)
            added, removed = run_op(project, op)
            expected = (expected | added) - removed
            kept[side] = added_lines(read_tree(project), side)
            git(project, "switch", "--quiet", "main")
        for branch, method in zip(BRANCHES, methods, strict=True):
            merge_into_main(project, branch, method)
        finish(project, update_project(project, to="v2"))

        assert capabilities(project) == expected, "a capability was lost (or came back)"
        final = read_tree(project)
        for side in SIDES:
            lost = kept[side] - added_lines(final, side)
            assert not lost, f"{side}'s lines {sorted(lost)} are lost"
        report = check_project(project)
        assert report.ok, report.problems
        assert git(project, "status", "--porcelain", "--untracked-files=no") == ""


def test_ci_runs_at_least_200_examples_of_each_property() -> None:
    ci_run = Path(__file__).parents[2] / ".ci" / "run"
    assert "\nexport HYPOTHESIS_PROFILE=ci\n" in ci_run.read_text()
    assert min(EXAMPLES["ci"]) >= 200
