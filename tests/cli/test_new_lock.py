"""`scaffold new` locks the new project's dependencies (uv, Terraform), after the first commit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import only_git_on_path, run_cli

TERRAFORM_LOCK = "deploy/terraform/.terraform.lock.hcl"


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
    assert git(project, "rev-list", "--count", "HEAD") == "2"  # the first commit, then the locks
    assert git(project, "show", "--name-only", "--format=", "HEAD").split() == [
        TERRAFORM_LOCK,
        "uv.lock",
    ]
    (generation,) = (path.name for path in (project / ".scaffold/generations").iterdir())
    assert "uv.lock" not in git(project, "ls-tree", "--name-only", generation)
    # The lock matches pyproject.toml: uv would not change it.
    subprocess.run(["uv", "lock", "--locked", "--offline"], cwd=project, check=True)


def test_the_terraform_lock_pins_the_aws_provider_and_init_leaves_nothing_else(
    workdir: Path,
) -> None:
    assert os.environ.get("TF_CLI_CONFIG_FILE"), "scripts/services env names the provider mirror"

    outcome = run_cli("new", "demo", "--yes")

    assert outcome.exit_code == 0, outcome.stderr
    assert f"{TERRAFORM_LOCK}: providers registry.terraform.io/hashicorp/aws" in outcome.stdout
    project = workdir / "demo"
    lock = (project / TERRAFORM_LOCK).read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws" {' in lock
    assert re.search(r'version\s+= "5\.', lock), lock
    assert 'hashes = [\n    "h1:' in lock
    assert not (project / "deploy/terraform/.terraform").exists()
    assert git(project, "status", "--porcelain", "--ignored") == ""
    # The lock matches the configuration: init with a read-only lock file accepts it.
    subprocess.run(
        ["terraform", "init", "-backend=false", "-input=false", "-lockfile=readonly"],
        cwd=project / "deploy/terraform",
        check=True,
        capture_output=True,
    )


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
    assert git(project, "rev-list", "--count", "HEAD") == "2"  # the first commit, then the lock
    assert git(project, "show", "--name-only", "--format=", "HEAD") == TERRAFORM_LOCK


def test_without_uv_the_project_is_written_with_one_warning(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_git_on_path(workdir.parent, monkeypatch)

    outcome = run_cli("new", "demo", "--yes")

    assert outcome.exit_code == 0
    assert outcome.stderr.strip().splitlines() == [
        "scaffold: warning: uv.lock not written: uv is not installed "
        f"(https://docs.astral.sh/uv/); run `uv lock` in {workdir / 'demo'} and commit it",
        f"scaffold: warning: {TERRAFORM_LOCK} not written: terraform is not installed "
        "(https://developer.hashicorp.com/terraform/install); run `terraform init "
        f"-backend=false` in {workdir / 'demo/deploy/terraform'} and commit it",
    ]


def test_no_lock_skips_it(workdir: Path) -> None:
    outcome = run_cli("new", "demo", "--yes", "--no-lock", "--json")

    assert outcome.exit_code == 0
    assert not (workdir / "demo" / "uv.lock").exists()
    assert '"lock": null' in outcome.stdout
    assert '"terraform_lock": null' in outcome.stdout
    assert not (workdir / "demo" / TERRAFORM_LOCK).exists()
    assert os.listdir(workdir) == ["demo"]
