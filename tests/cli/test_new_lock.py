"""`scaffold new` locks the new project's dependencies with uv, after the first commit."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scaffold.pristine import BRANCH as PRISTINE_BRANCH
from tests.support.cli import run_cli


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_the_lock_is_committed_after_the_pristine_generation(workdir: Path) -> None:
    assert shutil.which("uv"), "uv is needed (scripts/test installs it)"

    outcome = run_cli("new", "demo", "--yes")

    assert outcome.exit_code == 0, outcome.stderr
    project = workdir / "demo"
    assert "uv.lock: Resolved" in outcome.stdout
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "rev-parse", "HEAD~1") == git(project, "rev-parse", PRISTINE_BRANCH)
    assert git(project, "show", "--name-only", "--format=", "HEAD") == "uv.lock"
    assert "uv.lock" not in git(project, "ls-tree", "--name-only", PRISTINE_BRANCH)
    # The lock matches pyproject.toml: uv would not change it.
    subprocess.run(["uv", "lock", "--locked", "--offline"], cwd=project, check=True)


def test_without_network_the_project_is_written_with_one_warning(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "empty-uv-cache"))

    outcome = run_cli("new", "demo", "--yes")

    assert outcome.exit_code == 0
    warning = [line for line in outcome.stderr.splitlines() if line]
    assert len(warning) == 1, outcome.stderr
    assert warning[0].startswith("scaffold: warning: uv.lock not written: uv lock failed: ")
    assert "run `uv lock` in" in warning[0]
    assert "Traceback" not in outcome.stderr + outcome.stdout
    project = workdir / "demo"
    assert not (project / "uv.lock").exists()
    assert git(project, "rev-parse", "HEAD") == git(project, "rev-parse", PRISTINE_BRANCH)


def test_without_uv_the_project_is_written_with_one_warning(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_only = workdir.parent / "git-only"
    git_only.mkdir()
    git_binary = shutil.which("git")
    assert git_binary
    (git_only / "git").symlink_to(git_binary)
    monkeypatch.setenv("PATH", str(git_only))

    outcome = run_cli("new", "demo", "--yes")

    assert outcome.exit_code == 0
    assert outcome.stderr.strip() == (
        "scaffold: warning: uv.lock not written: uv is not installed "
        f"(https://docs.astral.sh/uv/); run `uv lock` in {workdir / 'demo'} and commit it"
    )


def test_no_lock_skips_it(workdir: Path) -> None:
    outcome = run_cli("new", "demo", "--yes", "--no-lock", "--json")

    assert outcome.exit_code == 0
    assert not (workdir / "demo" / "uv.lock").exists()
    assert '"lock": null' in outcome.stdout
    assert os.listdir(workdir) == ["demo"]
