"""The release workflow's promises, read from the YAML itself (GitHub is not needed to check them).

- every action is pinned to a full commit SHA;
- the workflow grants nothing by default, and each job's write permissions are used by its steps;
- production is deployed only from jobs bound to the `production` environment, after staging;
- after the build, the image is named only by its digest;
- two deploys (or applies) of one environment never overlap, and a rollback waits for the
  environment only, not for the releases of its ref.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[3] / ".github" / "workflows"
RELEASE = WORKFLOWS / "release.yml"
FULL_SHA = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")
# A write permission, and what in the job's steps uses it.
WRITE_USES = {
    "id-token": ("aws-actions/configure-aws-credentials@", "actions/attest-build-provenance@"),
    "attestations": ("actions/attest-build-provenance@",),
    "pull-requests": ("gh pr comment",),
}
DIGEST_IMAGE = "${{ needs.build.outputs.repository }}@${{ needs.build.outputs.digest }}"


def load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def jobs() -> dict[str, dict[str, Any]]:
    workflow = load(RELEASE)
    assert workflow["permissions"] == {}, "nothing is granted at the workflow level"
    found: dict[str, dict[str, Any]] = workflow["jobs"]
    return found


def steps_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("uses", "")) + str(step.get("run", "")) for step in job["steps"])


def environment_name(job: dict[str, Any]) -> str:
    environment = job.get("environment", "")
    return str(environment.get("name", "") if isinstance(environment, dict) else environment)


def needs(job: dict[str, Any]) -> list[str]:
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def upstream(jobs: dict[str, dict[str, Any]], name: str) -> set[str]:
    found: set[str] = set()
    pending = needs(jobs[name])
    while pending:
        current = pending.pop()
        if current not in found:
            found.add(current)
            pending.extend(needs(jobs[current]))
    return found


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit_sha(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses is not None and not uses.startswith("./"):
                assert FULL_SHA.match(uses), f"{path.name} {name}: {uses} is not pinned to a SHA"


def test_each_write_permission_is_used_by_the_job(jobs: dict[str, dict[str, Any]]) -> None:
    for name, job in jobs.items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{name} must declare its permissions"
        text = steps_text(job)
        for scope, access in permissions.items():
            if access != "write":
                continue
            assert scope in WRITE_USES, f"{name} may not write {scope}"
            assert any(user in text for user in WRITE_USES[scope]), f"{name}: {scope} unused"


def test_production_is_reached_only_through_its_environment_after_staging(
    jobs: dict[str, dict[str, Any]],
) -> None:
    production = [n for n, j in jobs.items() if j.get("env", {}).get("ENVIRONMENT") == "production"]
    assert sorted(production) == ["apply-production", "deploy-production"]
    for name in production:
        assert environment_name(jobs[name]) == "production", f"{name} needs its environment"
    assert {"deploy-staging", "apply-production"} <= upstream(jobs, "deploy-production")
    assert environment_name(jobs["rollback"]) == "${{ inputs.environment }}"


def test_after_the_build_the_image_is_named_by_its_digest(jobs: dict[str, dict[str, Any]]) -> None:
    build = jobs["build"]
    assert build["outputs"]["digest"] == "${{ steps.build.outputs.digest }}"
    attest = next(s for s in build["steps"] if "attest-build-provenance" in s.get("uses", ""))
    assert attest["with"]["subject-digest"] == "${{ steps.build.outputs.digest }}"
    deploys = [n for n, j in jobs.items() if "build" in needs(j)]
    assert sorted(deploys) == ["deploy-production", "deploy-staging"]
    for name in deploys:
        job = jobs[name]
        assert job["env"]["IMAGE"] == DIGEST_IMAGE
        text = steps_text(job)
        assert '--image "$PROMOTED"' in text
        assert 'echo "image=${target}@${digest}"' in text
        # A tag may be added for people to read; the deploy never resolves one.
        assert "outputs.repository }}:" not in str(job)


def test_deploys_of_one_environment_never_overlap(jobs: dict[str, dict[str, Any]]) -> None:
    groups = {}
    for name in ("apply-staging", "deploy-staging", "apply-production", "deploy-production"):
        concurrency = jobs[name]["concurrency"]
        assert concurrency["cancel-in-progress"] is False, f"{name} must queue, not cancel"
        groups[name] = concurrency["group"]
    assert len(set(groups.values())) == len(groups)
    assert jobs["rollback"]["concurrency"]["group"] == "deploy-${{ inputs.environment }}"
    assert {groups["deploy-staging"], groups["deploy-production"]} == {
        "deploy-staging",
        "deploy-production",
    }


def test_a_plan_older_than_the_running_release_is_not_applied(
    jobs: dict[str, dict[str, Any]],
) -> None:
    for name in ("apply-staging", "apply-production"):
        (step,) = [s for s in jobs[name]["steps"] if "terraform apply" in str(s.get("run", ""))]
        script = step["run"]
        # The digest the plan was made with, against the one the service runs, before applying.
        checked = script.index("current-image"), script.index(".variables.image_tag.value")
        assert max(checked) < script.index("terraform apply"), name
        assert "exit 1" in script[max(checked) : script.index("terraform apply")], name


def test_a_rollback_does_not_queue_behind_releases() -> None:
    workflow = load(RELEASE)
    group = workflow["concurrency"]["group"]
    # workflow_dispatch runs get a group of their own (one per run): only the rollback job's
    # environment group (above) orders them against deploys.
    assert "github.event_name == 'workflow_dispatch'" in group
    assert "github.run_id" in group
    assert workflow["jobs"]["rollback"]["if"] == "github.event_name == 'workflow_dispatch'"
