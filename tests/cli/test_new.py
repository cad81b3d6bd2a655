from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from scaffold import __version__
from scaffold.catalog import CATALOG
from scaffold.lifecycle.records import RECORDS
from scaffold.pristine import REF_PREFIX
from tests.support.cli import run_cli
from tests.support.disk import snapshot

SCAFFOLD = str(Path(sys.executable).parent / "scaffold")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_new_on_defaults_writes_a_committed_project(workdir: Path) -> None:
    outcome = run_cli("new", "demo", "--yes", "--no-lock")  # the lock: test_new_lock.py
    assert outcome.exit_code == 0, outcome.stderr
    project = workdir / "demo"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "demo"
    assert "Created" in outcome.stdout
    assert f"cd {project}" in outcome.stdout
    assert git(project, "status", "--porcelain") == ""
    (record,) = (project / RECORDS).iterdir()  # the first generation, kept under a ref
    assert git(project, "rev-parse", REF_PREFIX + record.name) == record.name
    assert git(project, "rev-list", "--count", "HEAD") == "1"
    assert "Generate demo with scaffold" in git(project, "log", "-1", "--format=%B")


def test_no_git_leaves_no_repository(workdir: Path) -> None:
    assert run_cli("new", "demo", "--yes", "--no-git").exit_code == 0
    assert (workdir / "demo" / ".copier-answers.yml").is_file()
    assert not (workdir / "demo" / ".git").exists()


def test_dry_run_lists_the_files_and_writes_nothing(workdir: Path) -> None:
    before = snapshot(workdir)
    outcome = run_cli("new", "demo", "--dry-run")
    assert outcome.exit_code == 0
    assert ".copier-answers.yml" in outcome.stdout
    assert "nothing was written" in outcome.stdout
    assert snapshot(workdir) == before


def test_dry_run_lists_exactly_what_a_real_run_writes(workdir: Path) -> None:
    planned = json.loads(run_cli("new", "demo", "--dry-run", "--json").stdout)["files"]
    # What the template writes; uv.lock comes from uv afterwards (test_new_lock.py).
    assert run_cli("new", "demo", "--yes", "--no-git", "--no-lock").exit_code == 0
    written = sorted(
        str(p.relative_to(workdir / "demo")) for p in (workdir / "demo").rglob("*") if p.is_file()
    )
    assert planned == written


def test_json_output(workdir: Path) -> None:
    outcome = run_cli("new", "demo", "--json")
    result = json.loads(outcome.stdout)
    assert result["name"] == "demo"
    assert result["path"] == str(workdir / "demo")
    assert result["capabilities"] == []
    assert len(result["commit"]) == 40
    assert ".copier-answers.yml" in result["files"]


def test_output_dir_is_created_when_missing(workdir: Path) -> None:
    outcome = run_cli("new", "demo", "--yes", "--output-dir", "a/b")
    assert outcome.exit_code == 0, outcome.stderr
    assert (workdir / "a" / "b" / "demo" / ".copier-answers.yml").is_file()


def test_an_existing_empty_target_folder_is_used(workdir: Path) -> None:
    (workdir / "demo").mkdir()
    assert run_cli("new", "demo", "--yes").exit_code == 0
    assert (workdir / "demo" / ".copier-answers.yml").is_file()


def test_a_projects_answers_file_reproduces_it(workdir: Path) -> None:
    assert run_cli("new", "first", "--yes", "--no-git", "--description", "Pays").exit_code == 0
    answers = workdir / "first" / ".copier-answers.yml"
    outcome = run_cli("new", "second", "--no-git", "--answers-file", str(answers))
    assert outcome.exit_code == 0, outcome.stderr
    second = yaml.safe_load((workdir / "second" / ".copier-answers.yml").read_text())
    assert second["description"] == "Pays"
    assert second["project_name"] == "second"


def test_version_and_list() -> None:
    assert run_cli("--version").stdout.strip() == f"scaffold {__version__}"
    listing = run_cli("list").stdout
    for capability in CATALOG:
        assert capability.name in listing
    data = json.loads(run_cli("list", "--json").stdout)
    assert [c["name"] for c in data["capabilities"]] == list(CATALOG.names)


def complete(words: str) -> list[str]:
    """Ask the installed `scaffold` for bash completions of ``words``, as the shell would."""
    parts = words.split(" ")
    env = {**os.environ, "_SCAFFOLD_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(parts) - 1)}  # fmt: skip
    done = subprocess.run([SCAFFOLD], env=env, capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_shell_completion_offers_commands_presets_and_variants() -> None:
    assert "new" in complete("scaffold ne")
    assert complete("scaffold new x --preset f") == ["full"]
    assert complete("scaffold new x --broker r") == ["rabbitmq"]
