"""`scaffold update`: render the new generation and merge it into the current branch.

The merge base is the generation the branch records (docs/lifecycle.md), so the template's
changes apply, the user's changes stay, and where both touched the same lines git leaves its
conflict markers. `--dry-run` makes the same plan in a scratch object store and shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scaffold.errors import ScaffoldError
from scaffold.git import run_git
from scaffold.lifecycle.apply import apply_plan
from scaffold.lifecycle.objects import scratch_objects
from scaffold.lifecycle.plan import Change, Plan, make_plan
from scaffold.project import Project, open_project
from scaffold.relock import lock_pending, relock


@dataclass(frozen=True)
class UpdateResult:
    status: str
    """"up-to-date", "merged", "conflicts", "not-committed" or "dry-run"."""
    from_version: str | None
    to_version: str | None
    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    diff: str = ""
    action: str = "update"
    """What was asked: "update", or "add NAME…" / "remove NAME…"."""
    conflict_kinds: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    reason: str = ""
    """Why git did not commit ("not-committed")."""
    warnings: list[str] = field(default_factory=list)
    """Locks that could not follow the change (scaffold.relock)."""

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "action": self.action,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "changed": self.changed,
            "conflicts": self.conflicts,
            "conflict_kinds": self.conflict_kinds,
            "notes": self.notes,
            "reason": self.reason,
            "diff": self.diff,
            "warnings": self.warnings,
        }


def update_project(folder: Path, *, to: str | None = None, dry_run: bool = False) -> UpdateResult:
    project = open_project(folder)
    if to is not None and project.answers.get("_src_path") and not project.source.is_git:
        raise ScaffoldError(f"--to takes a tag of a git template, not {project.source.recorded}")
    message = "Update from the scaffold template"
    return run_change(project, Change(project.copier_data(), message, to), "update", dry_run)


def run_change(project: Project, change: Change, action: str, dry_run: bool) -> UpdateResult:
    with scratch_objects(project.repo) as env:
        plan = make_plan(project, change, env)
        versions = (project.version, plan.generation.version)
        if plan.merge is None:
            return UpdateResult("up-to-date", *versions, action=action, notes=plan.notes)
        if dry_run:
            return _preview(plan, action)
        message = f"{change.message}\n\n" + "\n".join(plan.notes) if plan.notes else change.message
        applied = apply_plan(plan, message.strip())
    # A committed change leaves no lock behind its sources (uv.lock, .terraform.lock.hcl).
    changed = project.paths_inside(applied.changed)
    merged = applied.status == "merged"
    warnings = relock(project.root, changed) if merged else lock_pending(project.root, changed)
    return UpdateResult(
        applied.status, *versions, applied.changed, sorted(applied.conflicts), action=action,
        conflict_kinds=applied.conflicts, notes=plan.notes, reason=applied.reason,
        warnings=warnings,
    )  # fmt: skip


def _preview(plan: Plan, action: str) -> UpdateResult:
    assert plan.merge is not None
    root, env, merged = plan.project.repo, plan.env, plan.merge.tree
    diff = run_git(root, "diff", "--no-color", "--find-renames", "HEAD", merged, env=env)
    changed = run_git(root, "diff", "--name-only", "--find-renames", "HEAD", merged, env=env)
    return UpdateResult(
        "dry-run", plan.project.version, plan.generation.version, changed.splitlines(),
        sorted(plan.merge.conflicts), diff + "\n", action, dict(plan.merge.conflicts), plan.notes,
    )  # fmt: skip
