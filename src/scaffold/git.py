"""The few git operations scaffold needs, run through the git command line."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from scaffold.errors import GitError, ScaffoldError

PRISTINE_BRANCH = "scaffold/pristine"
"""Holds only generated trees, one commit per generation; updates merge from it."""

_FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "scaffold",
    "GIT_AUTHOR_EMAIL": "scaffold@localhost",
    "GIT_COMMITTER_NAME": "scaffold",
    "GIT_COMMITTER_EMAIL": "scaffold@localhost",
}


def require_git() -> None:
    if shutil.which("git") is None:
        raise ScaffoldError("git is not installed; install it or pass --no-git")


def run_git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    try:
        completed = subprocess.run(
            ["git", *args],
            cwd=repo,
            env={**os.environ, **(env or {})},
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as error:
        detail = (error.stderr or error.stdout or "").strip().splitlines()
        raise GitError(args[0], detail[-1] if detail else f"exit {error.returncode}") from None
    return completed.stdout.strip()


def _identity_env(repo: Path) -> dict[str, str]:
    """Use the user's identity when git has one; otherwise commit as scaffold."""
    probe = subprocess.run(
        ["git", "config", "user.email"], cwd=repo, capture_output=True, text=True, check=False
    )
    return {} if probe.stdout.strip() else dict(_FALLBACK_IDENTITY)


def init_with_first_generation(repo: Path, message: str) -> str:
    """``git init``, commit everything, and mark that commit as the first pristine generation."""
    require_git()
    default_branch = subprocess.run(
        ["git", "config", "--get", "init.defaultBranch"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    run_git(repo, "init", "--quiet", f"--initial-branch={default_branch or 'main'}")
    run_git(repo, "add", "--all")
    env = _identity_env(repo)
    run_git(repo, "commit", "--quiet", "--no-verify", "--message", message, env=env)
    commit = run_git(repo, "rev-parse", "HEAD")
    run_git(repo, "branch", PRISTINE_BRANCH, commit)
    return commit
