"""This repository's own CI: linted by actionlint, pinned, least privilege, and consistent with
the matrix's sharding and with `.ci/run`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.matrix.shards import Shard
from tests.matrix.static_checks import require_tool

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
SHARD_ARGUMENT = re.compile(r'--matrix-shard "\$\{\{ matrix\.shard \}\}/(\d+)"')


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_actionlint_accepts_the_workflows() -> None:
    assert WORKFLOWS, "no workflow in .github/workflows"
    actionlint = require_tool("actionlint", "run scripts/install-linters")
    done = subprocess.run(
        [actionlint, *map(str, WORKFLOWS)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_release_named() -> None:
    for path in WORKFLOWS:
        for step in steps(load(path)):
            if "uses" in step:
                assert PINNED.match(step["uses"]), f"{path.name}: {step['uses']} is not pinned"
        for line in path.read_text(encoding="utf-8").splitlines():
            if "uses:" in line:
                assert re.search(r"@[0-9a-f]{40} # v\d", line), f"{path.name}: {line.strip()}"


def test_the_token_is_read_only_and_checkout_does_not_keep_it() -> None:
    for path in WORKFLOWS:
        workflow = load(path)
        assert workflow["permissions"] == {}, f"{path.name}: no default permissions"
        for name, job in workflow["jobs"].items():
            granted = job.get("permissions", {})
            assert set(granted.values()) <= {"read"}, f"{path.name}: job {name} may write"
        for step in steps(workflow):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_the_matrix_job_runs_every_shard_it_declares() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "ci.yml")
    job = workflow["jobs"]["matrix"]
    shards = job["strategy"]["matrix"]["shard"]
    commands = [step["run"] for step in job["steps"] if "--matrix-shard" in step.get("run", "")]
    assert len(commands) == 1
    found = SHARD_ARGUMENT.search(commands[0])
    assert found, commands[0]
    count = int(found.group(1))
    assert shards == list(range(1, count + 1))
    assert [str(Shard(i, count)) for i in shards] == [f"{i}/{count}" for i in range(1, count + 1)]
    assert job["strategy"]["fail-fast"] is False  # one failing shard must not hide the others
    rest = workflow["jobs"]["suite"]["steps"][-1]["run"]
    assert rest == "scripts/test --ignore=tests/matrix"


def test_ci_runs_the_full_matrix_through_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        line.strip() for line in script.splitlines() if line.strip() and not line.startswith("#")
    ]
    assert "export SCAFFOLD_MATRIX=full" in commands
    assert commands[-1] == "scripts/test"
    assert "`.ci/run` runs exactly this command" in (ROOT / "README.md").read_text()
