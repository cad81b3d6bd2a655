"""`scaffold update`: render the new generation on the pristine branch, then let git merge it.

The template's changes apply, the user's changes stay, and where both touched the same lines git
leaves its conflict markers. `--dry-run` does the same merge in a scratch object store and shows
the diff, touching neither the working tree nor the repository.
"""

from __future__ import annotations

import tempfile
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from scaffold import __version__
from scaffold.errors import PristineMissing, ScaffoldError
from scaffold.git import git_status, identity_env, run_git
from scaffold.pristine import BRANCH, PristineBranch, scratch_objects
from scaffold.project import Project, open_project, parse_answers, require_clean
from scaffold.relock import relock
from scaffold.render import ANSWERS_FILE, render_tree


@dataclass(frozen=True)
class UpdateResult:
    status: str
    """"up-to-date", "merged", "conflicts" or "dry-run"."""
    from_version: str | None
    to_version: str | None
    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    diff: str = ""
    warnings: list[str] = field(default_factory=list)
    """Locks that could not follow a merge (scaffold.relock)."""

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "changed": self.changed,
            "conflicts": self.conflicts,
            "diff": self.diff,
            "warnings": self.warnings,
        }


def update_project(folder: Path, *, to: str | None = None, dry_run: bool = False) -> UpdateResult:
    project = open_project(folder)
    if to is not None and not project.source.is_git:
        raise ScaffoldError(f"--to takes a tag of a git template, not {project.source.recorded}")
    return regenerate(
        project, project.copier_data(), "Update from the scaffold template", to, dry_run
    )


def regenerate(
    project: Project,
    data: dict[str, object],
    message: str,
    vcs_ref: str | None = None,
    dry_run: bool = False,
) -> UpdateResult:
    """Render ``data`` as the next pristine generation and merge it into the current branch."""
    require_clean(project)
    old = PristineBranch(project.root).tip()
    if old is None:
        raise PristineMissing()
    with tempfile.TemporaryDirectory(prefix="scaffold-update-") as scratch:
        tree = Path(scratch) / "tree"
        render_tree(project.source, tree, data, vcs_ref)
        to_version = _version_in(tree)
        isolation: AbstractContextManager[dict[str, str]] = (
            scratch_objects(project.root) if dry_run else nullcontext({})
        )
        with isolation as env:
            pristine = PristineBranch(project.root, env)
            new = pristine.commit_tree(tree, f"{message}\n\nscaffold {__version__}", old)
            if pristine.same_tree(new, old):
                if pristine.is_merged():
                    return UpdateResult("up-to-date", project.version, to_version)
                new = old  # an earlier update was not merged (aborted): merge it now
            if dry_run:
                return _preview(project.root, new, env, project.version, to_version)
            if new != old:
                pristine.advance(new, old)
    return _merge(project.root, message, project.version, to_version)


def _version_in(tree: Path) -> str | None:
    answers = parse_answers((tree / ANSWERS_FILE).read_text(encoding="utf-8"), ANSWERS_FILE)
    version = answers.get("_commit")
    return None if version is None else str(version)


def _preview(
    root: Path, new: str, env: dict[str, str], from_version: str | None, to_version: str | None
) -> UpdateResult:
    merged = git_status(root, "merge-tree", "--write-tree", "--name-only", "HEAD", new, env=env)
    if merged.code not in (0, 1):
        raise ScaffoldError(f"git merge-tree failed: {merged.err}")
    head, _, rest = merged.out.partition("\n")
    conflicts = sorted(set(rest.split("\n\n", 1)[0].split())) if merged.code == 1 else []
    diff = run_git(root, "diff", "--no-color", "--find-renames", "HEAD", head, env=env)
    changed = run_git(root, "diff", "--name-only", "--find-renames", "HEAD", head, env=env)
    return UpdateResult(
        "dry-run", from_version, to_version, changed.splitlines(), conflicts, diff + "\n"
    )


def _merge(
    root: Path, message: str, from_version: str | None, to_version: str | None
) -> UpdateResult:
    before = run_git(root, "rev-parse", "HEAD")
    merged = git_status(
        root, "merge", "--no-ff", "--no-edit", "-m", message, BRANCH, env=identity_env(root)
    )
    if merged.code != 0:
        conflicts = run_git(root, "diff", "--name-only", "--diff-filter=U").splitlines()
        if not conflicts:
            detail = (merged.err or merged.out).splitlines()
            raise ScaffoldError("git merge failed: " + (detail[-1] if detail else "unknown"))
        changed = run_git(root, "diff", "--name-only", "HEAD").splitlines()
        return UpdateResult("conflicts", from_version, to_version, changed, conflicts)
    changed = run_git(root, "diff", "--name-only", before, "HEAD").splitlines()
    warnings = relock(root, changed)
    return UpdateResult("merged", from_version, to_version, changed, warnings=warnings)


def rebuild_pristine(folder: Path) -> str:
    """Recreate a lost pristine branch from the recorded answers and template version."""
    project = open_project(folder)
    require_clean(project)
    branch = PristineBranch(project.root)
    if branch.tip() is not None:
        raise ScaffoldError(f"{BRANCH} exists already; nothing to rebuild")
    source = project.source
    if source.packaged and project.version != __version__:
        raise ScaffoldError(
            f"the project was generated by scaffold {project.version}, this is {__version__}: "
            f"install scaffold=={project.version} to rebuild its pristine generation"
        )
    vcs_ref = project.version if source.is_git else None
    with tempfile.TemporaryDirectory(prefix="scaffold-rebuild-") as scratch:
        tree = Path(scratch) / "tree"
        render_tree(source, tree, project.copier_data(), vcs_ref)
        commit = branch.commit_tree(tree, "Rebuilt pristine generation", None)
    branch.advance(commit, None)
    run_git(
        project.root, "merge", "--strategy=ours", "--allow-unrelated-histories", "--no-edit",
        "-m", f"Record the rebuilt {BRANCH} as merged", BRANCH, env=identity_env(project.root),
    )  # fmt: skip
    return commit
