from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaffold.matrix import combinations, pairwise
from scaffold.selection import Selection
from tests.matrix import report

_started = time.monotonic()


def matrix_mode() -> str:
    mode = os.environ.get("SCAFFOLD_MATRIX") or ("full" if os.environ.get("CI") else "pairwise")
    assert mode in {"full", "pairwise"}, f"SCAFFOLD_MATRIX must be full or pairwise, not {mode}"
    return mode


def selected() -> list[Selection]:
    return combinations() if matrix_mode() == "full" else pairwise()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "combination" in metafunc.fixturenames:
        chosen = selected()
        metafunc.parametrize("combination", chosen, ids=[s.label() for s in chosen])


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


@pytest.fixture(scope="session")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("combinations")
