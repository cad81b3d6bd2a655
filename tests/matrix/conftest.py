from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.matrix.mode import selected


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "combination" in metafunc.fixturenames:
        chosen = selected(metafunc.config.getoption("matrix_shard"))
        metafunc.parametrize("combination", chosen, ids=[s.label() for s in chosen])


@pytest.fixture(scope="session")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("combinations")
