"""Matrix report hooks. Registered from the root conftest: with xdist only the controller
writes the summary, and the controller loads no conftest below tests/."""

from __future__ import annotations

import time

import pytest

from tests.matrix import report
from tests.matrix.mode import matrix_mode

_started = time.monotonic()


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):
        report.reset()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if hasattr(terminalreporter.config, "workerinput"):
        return
    markdown = report.merge(time.monotonic() - _started)
    if markdown:
        terminalreporter.write_sep("-", f"combination matrix ({matrix_mode()})")
        terminalreporter.write_line(markdown.splitlines()[-1])
        terminalreporter.write_line(f"report: {report.OUT / 'report.md'}")
