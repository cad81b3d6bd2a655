"""Run the real CLI in-process and capture stdout and stderr apart."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.cli import app


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> Outcome:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def refused(outcome: Outcome, message: str) -> None:
    """One line on stderr naming the problem, exit 2, nothing on stdout."""
    assert outcome.exit_code == 2, outcome
    assert outcome.stdout == ""
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("scaffold: error: ")
    assert message in lines[0], lines[0]


def only_git_on_path(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH holds git and nothing else (no uv, no Terraform): a machine missing the tools."""
    git_only = scratch / "git-only"
    git_only.mkdir()
    git_binary = shutil.which("git")
    assert git_binary
    (git_only / "git").symlink_to(git_binary)
    monkeypatch.setenv("PATH", str(git_only))
