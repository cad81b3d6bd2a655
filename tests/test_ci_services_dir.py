"""`.ci/services-dir`: where `.ci/run` keeps the backing services' state (in memory when it can).

Each case runs a copy of the script beside a copy of scripts/ in a folder of its own, so what
the real checkout has running does not decide the answer."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy2(ROOT / ".ci" / "services-dir", repo / ".ci" / "services-dir")
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    return repo


def chosen(checkout: Path, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SCAFFOLD_")}
    done = subprocess.run(
        [checkout / ".ci" / "services-dir"], env={**base, **env},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    return lines[0]


def test_a_directory_the_caller_chose_is_kept(checkout: Path, tmp_path: Path) -> None:
    assert chosen(checkout, SCAFFOLD_SERVICES_DIR="/srv/mine", SCAFFOLD_SHM=str(tmp_path)) == (
        "/srv/mine"
    )


def test_memory_is_chosen_when_it_has_room(checkout: Path, tmp_path: Path) -> None:
    shm = tmp_path / "shm"
    shm.mkdir()
    assert chosen(checkout, SCAFFOLD_SHM=str(shm), SCAFFOLD_SHM_MIN_KIB="1") == (
        f"{shm}/scaffold-services"
    )


def test_the_checkout_keeps_its_own_without_room_or_memory(checkout: Path, tmp_path: Path) -> None:
    shm = tmp_path / "shm"
    shm.mkdir()
    own = f"{checkout}/.services"
    too_much = str(10**15)
    assert chosen(checkout, SCAFFOLD_SHM=str(shm), SCAFFOLD_SHM_MIN_KIB=too_much) == own
    assert chosen(checkout, SCAFFOLD_SHM=str(tmp_path / "missing")) == own


@pytest.mark.services
def test_the_checkout_keeps_its_own_while_its_postgresql_runs(
    checkout: Path, tmp_path: Path
) -> None:
    """Its ports are taken: a second instance in memory could not start beside it."""
    running = os.environ.get("SCAFFOLD_SERVICES_DIR") or str(ROOT / ".services")
    assert (Path(running) / "postgres").is_dir(), f"no PostgreSQL state in {running}"
    (checkout / ".services").symlink_to(running)
    shm = tmp_path / "shm"
    shm.mkdir()
    assert chosen(checkout, SCAFFOLD_SHM=str(shm), SCAFFOLD_SHM_MIN_KIB="1") == (
        f"{checkout}/.services"
    )
