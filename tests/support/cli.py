"""Run the real CLI in-process and capture stdout and stderr apart."""

from __future__ import annotations

from dataclasses import dataclass

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
