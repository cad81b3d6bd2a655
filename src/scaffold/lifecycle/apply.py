"""Apply a plan: keep its objects, keep its generations' refs, then let git do the merge.

The change is cherry-picked without committing, so git writes the merge into the working tree
and the index as it always does (conflict markers, `git status`, `git cherry-pick --abort`),
and then `git commit` makes the commit: the user's hooks run and signing applies, like any
commit of theirs. When git refuses that commit, everything stays staged and the result says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scaffold.errors import ScaffoldError
from scaffold.git import git_status, identity_env, last_line, run_git, what_git_said
from scaffold.lifecycle.branches import BranchPlan
from scaffold.lifecycle.objects import promote
from scaffold.lifecycle.plan import Plan
from scaffold.pristine import REF_PREFIX, Generations


@dataclass(frozen=True)
class Applied:
    status: str
    """"merged" (committed), "conflicts" (left to resolve) or "not-committed"."""
    changed: list[str]
    conflicts: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    """Why git would not commit, for "not-committed"."""


def apply_plan(plan: Plan, message: str) -> Applied:
    assert plan.merge is not None
    repo, identity = plan.project.repo, plan.identity
    new_refs = _keep(repo, plan.env, plan.keep, plan.kept)
    picked = git_status(repo, "cherry-pick", "--no-commit", plan.merge.change, env=identity)
    changed, unmerged = _staged(repo)
    if picked.code != 0 and not unmerged:
        _forget(repo, new_refs)  # git changed nothing: neither does scaffold
        raise ScaffoldError(f"git cherry-pick failed: {last_line(picked)}")
    # the change under way, for `git status`, `git commit` and `git cherry-pick --abort`
    run_git(repo, "update-ref", "CHERRY_PICK_HEAD", plan.merge.change)
    if unmerged:
        kinds = plan.merge.conflicts
        return Applied("conflicts", changed, {p: kinds.get(p, "in conflict") for p in unmerged})
    committed = git_status(repo, "commit", "--quiet", "-m", message, env=identity)
    if committed.code != 0:
        return Applied("not-committed", changed, reason=what_git_said(committed))
    return Applied("merged", changed)


def _keep(repo: Path, env: dict[str, str], commits: list[str], kept: frozenset[str]) -> list[str]:
    """Move the plan's objects into the repository and give its generations their refs;
    returns the refs that are new, to take back if git then refuses to start."""
    new_refs = sorted(set(commits) - kept)
    promote(env)
    Generations(repo).keep(new_refs)
    return new_refs


def _forget(repo: Path, commits: list[str]) -> None:
    lines = "".join(f"delete {REF_PREFIX}{commit}\n" for commit in commits)
    git_status(repo, "update-ref", "--stdin", stdin=lines)


def _staged(repo: Path) -> tuple[list[str], list[str]]:
    """The paths the index changes against HEAD, and those of them left unmerged."""
    listed = run_git(repo, "diff", "--cached", "--name-status", "--no-renames", "-z", "HEAD")
    entries = listed.split("\0")
    pairs = list(zip(entries[0::2], entries[1::2], strict=False))
    return sorted({p for _, p in pairs}), sorted({p for s, p in pairs if s.startswith("U")})


def apply_branch_merge(plan: BranchPlan) -> Applied:
    """git starts the merge (so MERGE_HEAD, `git merge --abort` and the message are git's own),
    then the index and the working tree take the planned result, conflicts as unmerged stages."""
    repo = plan.project.repo
    identity = identity_env(repo)
    before = run_git(repo, "rev-parse", "HEAD")
    if plan.kind == "fast-forward":
        run_git(repo, "merge", "--quiet", "--ff-only", plan.other_commit, env=identity)
        return Applied("merged", _changed(repo, before, "HEAD"))
    assert plan.merge is not None
    new_refs = _keep(repo, plan.env, plan.keep, plan.kept)
    started = git_status(repo, "merge", "--quiet", "--no-commit", "--no-ff", "--strategy=ours",
                         plan.other, env=identity)  # fmt: skip
    if started.code != 0:
        _forget(repo, new_refs)
        raise ScaffoldError(f"git merge failed: {last_line(started)}")
    run_git(repo, "read-tree", "-m", "-u", "HEAD", plan.merge.tree)
    if plan.merge.conflicts:
        paths = sorted(plan.merge.conflicts)
        rows = [f"0 {'0' * len(before)}\t{path}" for path in paths] + plan.merge.stages
        run_git(repo, "update-index", "-z", "--index-info",
                stdin="".join(f"{row}\0" for row in rows))  # fmt: skip
        return Applied("conflicts", _changed(repo, before, None), dict(plan.merge.conflicts))
    committed = git_status(repo, "commit", "--quiet", "--no-edit", env=identity)
    if committed.code != 0:
        return Applied(
            "not-committed", _changed(repo, before, None), reason=what_git_said(committed)
        )
    return Applied("merged", _changed(repo, before, "HEAD"))


def _changed(repo: Path, before: str, after: str | None) -> list[str]:
    compared = [before, after] if after else ["--cached", before]
    return run_git(repo, "diff", "--name-only", *compared).splitlines()
