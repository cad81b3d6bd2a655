from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.disk import snapshot

pytest_plugins = ["tests.matrix.plugin"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--cpu-cost",
        action="store_true",
        help="print the costliest test modules in CPU seconds (tests/support/cpu_cost.py)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--cpu-cost"):
        from tests.support import cpu_cost

        config.pluginmanager.register(cpu_cost, "cpu_cost")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty folder to run in, with its own TMPDIR so stray temporary files show up."""
    work = tmp_path / "work"
    work.mkdir()
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    yield work
    assert not os.listdir(private_tmp), "a temporary file was left behind"


@pytest.fixture
def unchanged(workdir: Path) -> Iterator[None]:
    """Assert the work folder is byte-for-byte as it was when the test ends."""
    before = snapshot(workdir)
    yield
    assert snapshot(workdir) == before


@pytest.fixture(scope="session")
def admin_database_url() -> str:
    """The loopback PostgreSQL of scripts/services; its role may create databases."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.fail(
            "DATABASE_URL is not set: start the services with `scripts/services up` and "
            '`eval "$(scripts/services env)"` (scripts/test does both)'
        )
    return url
