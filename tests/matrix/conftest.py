from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scaffold.matrix import combinations, pairwise
from scaffold.selection import Selection
from tests.matrix.mode import matrix_mode


def selected() -> list[Selection]:
    return combinations() if matrix_mode() == "full" else pairwise()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "combination" in metafunc.fixturenames:
        chosen = selected()
        metafunc.parametrize("combination", chosen, ids=[s.label() for s in chosen])


@pytest.fixture(scope="session")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("combinations")
