"""The dependency lock of a new project: `uv lock` after rendering, committed on its own.

The template cannot ship one `uv.lock` for every combination of capabilities, so the lock is made
where the combination is known: in the rendered project, by uv itself. It is derived from
`pyproject.toml`, not rendered by the template, so it is committed after the first commit (the
pristine generation) rather than in it: the pristine branch keeps holding exactly what the
template rendered, and an update, which merges pristine generations, never deletes the lock.

When `update`, `add` or `remove` change `pyproject.toml`, the lock must follow: after a merge
without conflicts in `pyproject.toml`, call `lock_dependencies` again and commit `uv.lock` with
the merge (or leave it staged with the conflicts, saying so).

Without uv, or without network (and nothing in uv's cache), the project is still written: the
caller reports one line, and the user runs `uv lock` later. uv's own settings apply
(UV_OFFLINE, UV_INDEX_URL, UV_CACHE_DIR...), since it runs in the caller's environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scaffold.git import identity_env, run_git

LOCK_FILE = "uv.lock"
LOCK_SOURCE = "pyproject.toml"
"""What `uv.lock` is made from."""
LOCK_TIMEOUT_SECONDS = 300
MAX_REASON = 240
COMMIT_MESSAGE = (
    "Lock the dependencies\n\nMade by scaffold: uv.lock from pyproject.toml (uv lock), "
    "deploy/terraform/.terraform.lock.hcl from its providers (terraform init).\n"
)


@dataclass(frozen=True)
class LockOutcome:
    written: bool
    detail: str
    """What happened, in one line: the packages locked, or why there is no lock."""
    commit: str | None = None
    """The commit that added uv.lock, in a git repository."""

    def to_json(self) -> dict[str, object]:
        return {"written": self.written, "detail": self.detail, "commit": self.commit}


def lock_dependencies(project: Path) -> LockOutcome:
    """Run `uv lock` in `project`; never raises for a missing uv or a failed resolution."""
    uv = shutil.which("uv")
    if uv is None:
        return LockOutcome(False, "uv is not installed (https://docs.astral.sh/uv/)")
    try:
        done = subprocess.run(
            [uv, "lock", "--no-progress"],
            cwd=project,
            env={**os.environ, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=LOCK_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return LockOutcome(False, f"uv lock took longer than {LOCK_TIMEOUT_SECONDS} s")
    if done.returncode != 0 or not (project / LOCK_FILE).is_file():
        return LockOutcome(False, f"uv lock failed: {reason(done.stderr)}")
    resolved = next(
        (line.strip() for line in done.stderr.splitlines() if line.startswith("Resolved")),
        "resolved",
    )
    return LockOutcome(True, resolved)


def commit_lock(repo: Path, files: list[str]) -> str:
    """Commit the lock files on the current branch, after the first commit; returns the commit."""
    run_git(repo, "add", *files)
    run_git(repo, "commit", "--quiet", "--no-verify", "-m", COMMIT_MESSAGE, env=identity_env(repo))
    return run_git(repo, "rev-parse", "HEAD")


def reason(stderr: str) -> str:
    """A tool's error line and its deepest cause, on one line (no network, nothing matches...)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("error:")]
    causes = [
        line.split(":", 1)[1].strip()
        for line in lines
        if line.lower().startswith(("cause:", "caused by:"))
    ]
    error = errors[0] if errors else (lines[-1] if lines else "no reason given")
    found = f"{error} ({causes[-1]})" if causes else error
    return found if len(found) <= MAX_REASON else found[: MAX_REASON - 1] + "…"
