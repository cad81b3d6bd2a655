"""The promises of the release capability that read every workflow, `ci.yml` included:

- every action is pinned to a full commit SHA (a tag can be moved to other code; a commit cannot);
- the CI starts the AWS emulator only in the job whose tests use it (`tests/integration/release`).

A part of the release tests of its own (`tests/unit/release_workflows/`, not beside them in
`tests/unit/release/`): `ci.yml` lists every capability's service containers, so this group
reads a file every combination changes, and the release tests stay the same in every
combination; nor among the service's own tests, which would then read `ci.yml` too and differ
with CI/CD alone (scaffold's docs/development.md, "A capability's tests read only its own code
and its partners'").
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[3] / ".github" / "workflows"
FULL_SHA = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit_sha(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses is not None and not uses.startswith("./"):
                assert FULL_SHA.match(uses), f"{path.name} {name}: {uses} is not pinned to a SHA"


def test_the_emulator_runs_only_in_the_ci_job_that_uses_it() -> None:
    ci_jobs = load(WORKFLOWS / "ci.yml")["jobs"]
    assert "moto" in ci_jobs["test"]["services"], "tests/integration/release needs it"
    assert "AWS_ENDPOINT_URL" in ci_jobs["test"]["env"]
    # The image job runs the image, not the release tests: no emulator to start and pull.
    assert "moto" not in ci_jobs["image"].get("services", {})
    assert "AWS_ENDPOINT_URL" not in ci_jobs["image"].get("env", {})
