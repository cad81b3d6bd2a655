"""The few git operations scaffold needs, run through the git command line."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import GitError, ScaffoldError

_FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "scaffold",
    "GIT_AUTHOR_EMAIL": "scaffold@localhost",
    "GIT_COMMITTER_NAME": "scaffold",
    "GIT_COMMITTER_EMAIL": "scaffold@localhost",
}
READ_ONLY = {"GIT_OPTIONAL_LOCKS": "0"}
"""For commands that only look: `git status` and friends then never rewrite .git/index."""


@dataclass(frozen=True)
class Completed:
    code: int
    out: str
    err: str


def require_git() -> None:
    if shutil.which("git") is None:
        raise ScaffoldError("git is not installed; install it or pass --no-git")


def git_status(
    repo: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> Completed:
    """Run git and return its exit code and output; for commands where non-zero is an answer."""
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    return Completed(done.returncode, done.stdout.strip(), done.stderr.strip())


def run_git(
    repo: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> str:
    done = git_status(repo, *args, env=env, stdin=stdin)
    if done.code != 0:
        raise GitError(args[0], last_line(done))
    return done.out


def last_line(done: Completed) -> str:
    """The line of git's output that says what went wrong (hints and progress come first)."""
    lines = [
        line.strip()
        for line in (done.err or done.out).splitlines()
        if line.strip() and not line.startswith("hint:")
    ]
    return lines[-1] if lines else f"exit {done.code}"


def what_git_said(done: Completed) -> str:
    """git's (or a hook's) own words, on one line: for a failure the user has to act on."""
    lines = [line.strip() for line in (done.err or done.out).splitlines()]
    said = [line for line in lines if line and not line.startswith("hint:")]
    return "; ".join(said[-3:]) or f"exit {done.code}"  # a hook may say a lot: the end


def identity_env(repo: Path) -> dict[str, str]:
    """Use the user's identity when git has one; otherwise commit as scaffold."""
    configured = git_status(repo, "config", "user.email").out
    return {} if configured else dict(_FALLBACK_IDENTITY)


def init_repository(repo: Path) -> None:
    require_git()
    default_branch = git_status(repo, "config", "--get", "init.defaultBranch").out
    run_git(repo, "init", "--quiet", f"--initial-branch={default_branch or 'main'}")


def enclosing_work_tree(folder: Path) -> Path | None:
    """The top of the git work tree that contains ``folder``, or None outside any."""
    if shutil.which("git") is None or not folder.is_dir():
        return None
    found = git_status(folder, "rev-parse", "--show-toplevel")
    return Path(found.out) if found.code == 0 and found.out else None
