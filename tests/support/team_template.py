"""A team's own template in a local git repository, tagged v1 and v2, built for a test."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from scaffold.template_source import packaged_template

Change = Callable[[Path], None]
"""Edits a template's `project/` folder in place, to make the next version."""


def git(repo: Path, *args: str) -> str:
    env_args = ["-c", "user.name=test", "-c", "user.email=test@localhost"]
    done = subprocess.run(
        ["git", *env_args, *args], cwd=repo, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def make_template_repo(folder: Path, source: Path | None = None) -> Path:
    """Copy a template (the packaged one by default) into a new git repository, tagged v1."""
    shutil.copytree(source or packaged_template(), folder)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "--all", "--force")  # the template's own .gitignore is not for itself
    git(folder, "commit", "-qm", "v1")
    git(folder, "tag", "v1")
    return folder


def release(template: Path, tag: str, change: Change) -> None:
    """Apply ``change`` to the template's project files, commit and tag it."""
    change(template / "project")
    git(template, "add", "--all", "--force")
    git(template, "commit", "-qm", tag)
    git(template, "tag", tag)


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
