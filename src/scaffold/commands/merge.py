"""`scaffold merge BRANCH`: merge another branch when both made generations (docs/lifecycle.md).

Where git's own merge would make the template's lines collide (two branches each added a
capability), this renders one generation for both and merges only the users' changes.
"""

from __future__ import annotations

from pathlib import Path

from scaffold.commands.update import UpdateResult
from scaffold.git import run_git
from scaffold.lifecycle.apply import apply_branch_merge
from scaffold.lifecycle.branches import plan_branch_merge
from scaffold.lifecycle.objects import scratch_objects
from scaffold.project import open_project


def merge_branch(folder: Path, other: str, dry_run: bool = False) -> UpdateResult:
    project = open_project(folder)
    action = f"merge {other}"
    with scratch_objects(project.repo) as env:
        plan = plan_branch_merge(project, other, env)
        to_version = plan.generation.version if plan.generation else project.version
        versions = (project.version, to_version)
        if plan.kind == "up-to-date":
            return UpdateResult("up-to-date", *versions, action=action)
        if dry_run:
            target = plan.merge.tree if plan.merge else plan.other_commit
            diff = run_git(project.repo, "diff", "--no-color", "--find-renames", "HEAD", target,
                           env=env)  # fmt: skip
            changed = run_git(project.repo, "diff", "--name-only", "HEAD", target, env=env)
            conflicts = plan.merge.conflicts if plan.merge else {}
            return UpdateResult("dry-run", *versions, changed.splitlines(), sorted(conflicts),
                                diff + "\n", action, dict(conflicts))  # fmt: skip
        applied = apply_branch_merge(plan)
    return UpdateResult(
        applied.status, *versions, applied.changed, sorted(applied.conflicts), action=action,
        conflict_kinds=applied.conflicts, reason=applied.reason,
    )  # fmt: skip
