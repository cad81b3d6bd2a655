"""CI runners split the matrix with `--matrix-shard i/n`: the shards must partition it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from scaffold.catalog import CATALOG
from scaffold.matrix import combinations
from tests.matrix.mode import SHARD_VARIABLE
from tests.matrix.shards import Shard

ROOT = Path(__file__).resolve().parents[1]
EVERY_CAPABILITY = replace(
    CATALOG, capabilities=tuple(replace(c, available=True) for c in CATALOG.capabilities)
)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 16, 287, 288, 300])
def test_shards_partition_every_combination_of_the_whole_catalog(count: int) -> None:
    every = [s.label(EVERY_CAPABILITY) for s in combinations(EVERY_CAPABILITY)]
    assert len(every) == 288  # 2^5 x 3 (auth, multitenancy) x 3 (messaging off|kafka|rabbitmq)
    shards = [Shard(index, count).select(every) for index in range(1, count + 1)]
    flattened = [label for shard in shards for label in shard]
    assert sorted(flattened) == sorted(every)  # each in exactly one shard: no loss, no repeat
    sizes = [len(shard) for shard in shards]
    assert max(sizes) - min(sizes) <= 1


def test_a_shard_is_the_same_on_every_run() -> None:
    every = [s.label() for s in combinations()]
    assert Shard(2, 3).select(every) == Shard(2, 3).select(list(every))


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", ""])
def test_a_malformed_shard_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="shard"):
        Shard.parse(text)


def collected(
    *arguments: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-p", "no:xdist", "tests/matrix/test_combinations.py", *arguments],
        cwd=ROOT, env={**os.environ, "SCAFFOLD_MATRIX": "full", **(env or {})},
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def collected_labels(*arguments: str, env: dict[str, str] | None = None) -> list[str]:
    done = collected(*arguments, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return [
        line.split("[", 1)[1].removesuffix("]")
        for line in done.stdout.splitlines()
        if "::test_combination[" in line
    ]


def test_the_pytest_option_and_the_variable_select_the_shards_of_the_real_matrix() -> None:
    every = [s.label() for s in combinations()]
    parts = [collected_labels("--matrix-shard=1/2"), collected_labels(env={SHARD_VARIABLE: "2/2"})]
    assert sorted(parts[0] + parts[1]) == sorted(every)
    assert parts == [Shard(1, 2).select(every), Shard(2, 2).select(every)]


def test_a_bad_shard_option_stops_pytest_with_one_clear_line() -> None:
    done = collected("--matrix-shard=5/4")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "matrix shard '5/4': i must be between 1 and n" in done.stderr
