"""After `update`, `add` or `remove` merged a new generation: the locks follow what changed.

`uv.lock` and `deploy/terraform/.terraform.lock.hcl` are derived from files the template renders
(`pyproject.toml`, the Terraform's provider constraints). A merge that changed those leaves a
lock that `uv sync --locked` (CI, the Dockerfile) or `terraform init -lockfile=readonly` would
refuse, so each lock the project tracks is made again and committed after the merge. When that
fails (no uv, no Terraform, no network) the merge stands, and one warning says what to run. A
change left unfinished (conflicts, or a commit git refused) is not locked yet: one warning says
to lock before committing it.
"""

from __future__ import annotations

from pathlib import Path

from scaffold.git import git_status
from scaffold.lock import LOCK_FILE, LOCK_SOURCE, commit_lock, lock_dependencies
from scaffold.terraform_lock import LOCK_FILE as TERRAFORM_LOCK_FILE
from scaffold.terraform_lock import TERRAFORM_DIR, lock_providers


def _tracked(root: Path, path: str) -> bool:
    return git_status(root, "ls-files", "--error-unmatch", path).code == 0


def _lock_behind(root: Path, changed: list[str]) -> bool:
    """The change touched what the tracked `uv.lock` is made from."""
    return LOCK_SOURCE in changed and _tracked(root, LOCK_FILE)


def relock(root: Path, changed: list[str]) -> list[str]:
    """Make each tracked lock whose sources changed again and commit them; the warnings."""
    warnings: list[str] = []
    written: list[str] = []
    if _lock_behind(root, changed):
        outcome = lock_dependencies(root)
        if outcome.written:
            written.append(LOCK_FILE)
        else:
            warnings.append(
                f"{LOCK_FILE} not updated: {outcome.detail}; run `uv lock` and commit it"
            )
    terraform_lock = str(TERRAFORM_LOCK_FILE)
    terraform_changed = any(
        path.startswith(f"{TERRAFORM_DIR}/") and path.endswith(".tf") for path in changed
    )
    if terraform_changed and _tracked(root, terraform_lock):
        outcome_tf = lock_providers(root)
        if outcome_tf is not None and outcome_tf.written:
            written.append(terraform_lock)
        elif outcome_tf is not None:
            warnings.append(
                f"{terraform_lock} not updated: {outcome_tf.detail}; run `terraform init "
                f"-backend=false` in {TERRAFORM_DIR} and commit it"
            )
    stale = [path for path in written if git_status(root, "diff", "--quiet", "--", path).code]
    if stale:
        commit_lock(root, stale)
    return warnings


def lock_pending(root: Path, changed: list[str]) -> list[str]:
    """After a change left staged: the warning that `uv.lock` must follow before the commit."""
    if _lock_behind(root, changed):
        return [
            f"{LOCK_FILE} still pins what pyproject.toml asked before this change: once that "
            f"is resolved, run `uv lock` and `git add {LOCK_FILE}` before you `git commit`"
        ]
    return []
