"""Matrix options and report hooks. Registered from the root conftest: with xdist only the
controller writes the summary, and the controller loads no conftest below tests/."""

from __future__ import annotations

import os
import time

import pytest

from tests.matrix import report
from tests.matrix.mode import SHARD_VARIABLE, matrix_mode
from tests.matrix.shards import Shard

_started = time.monotonic()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--matrix-shard",
        metavar="I/N",
        default=None,
        help=f"run only shard I of N of the combination matrix (or set {SHARD_VARIABLE})",
    )


def pytest_configure(config: pytest.Config) -> None:
    text = config.getoption("matrix_shard") or os.environ.get(SHARD_VARIABLE)
    if text:
        try:
            Shard.parse(text)
        except ValueError as error:
            raise pytest.UsageError(str(error)) from None


def pytest_sessionstart(session: pytest.Session) -> None:
    # A collect-only session (the README test runs one) must not wipe a running run's results.
    if not hasattr(session.config, "workerinput") and not session.config.option.collectonly:
        report.reset()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if hasattr(terminalreporter.config, "workerinput"):
        return
    markdown = report.merge(time.monotonic() - _started)
    if markdown:
        terminalreporter.write_sep("-", f"combination matrix ({matrix_mode()})")
        terminalreporter.write_line(markdown.splitlines()[-1])
        terminalreporter.write_line(f"report: {report.OUT / 'report.md'}")
