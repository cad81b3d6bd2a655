"""Matrix options and report hooks. Registered from the root conftest: with xdist only the
controller writes the summary, and the controller loads no conftest below tests/."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.matrix import report, services_cpu
from tests.matrix.mode import SHARD_VARIABLE, matrix_mode
from tests.matrix.shards import Shard

_started = time.monotonic()
_services_before: dict[str, float] = {}
_MATRIX = Path(__file__).parent
_SERVICES = Path(
    os.environ.get("SCAFFOLD_SERVICES_DIR") or Path(__file__).parents[2] / ".services"
).resolve()


def _matrix_only(config: pytest.Config) -> bool:
    """Whether the session runs nothing but the matrix: only then is the services' CPU over
    the session the matrix's."""
    paths = [Path(config.invocation_params.dir, str(arg).split("::")[0]) for arg in config.args]
    return bool(paths) and all(path.resolve().is_relative_to(_MATRIX) for path in paths)


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
        _services_before.update(services_cpu.cpu_seconds(_SERVICES))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if hasattr(terminalreporter.config, "workerinput"):
        return
    config = terminalreporter.config
    services = services_cpu.used_since(_services_before, services_cpu.cpu_seconds(_SERVICES))
    markdown = report.merge(time.monotonic() - _started, services, _matrix_only(config))
    if markdown:
        terminalreporter.write_sep("-", f"combination matrix ({matrix_mode()})")
        terminalreporter.write_line(markdown.splitlines()[-1])
        terminalreporter.write_line(f"report: {report.OUT / 'report.md'}")
