"""The release workflow's promises, read from the YAML itself (GitHub is not needed to check them).

- every action is pinned to a full commit SHA (`tests/unit/release_workflows/test_workflows.py`:
  it reads `ci.yml`);
- the workflow grants nothing by default, and each job's write permissions are used by its steps;
- production is deployed only from jobs bound to the `production` environment, after staging;
- after the build, the image is named only by its digest;
- the build fails on a critical finding in the image's OS or Python packages, before any deploy;
- two deploys (or applies) of one environment never overlap, and a rollback waits for the
  environment only, not for the releases of its ref;
- the CI starts the AWS emulator only in the job whose tests use it
  (`tests/unit/release_workflows/test_workflows.py` too);
- a stale plan is replaced by a re-plan of main's commit (never of the merged pull request's
  code), which only a re-run of that commit's release applies.
"""

from pathlib import Path
from typing import Any

import pytest
import yaml

RELEASE = Path(__file__).resolve().parents[3] / ".github" / "workflows" / "release.yml"
# A write permission, and what in the job's steps uses it.
WRITE_USES = {
    "id-token": ("aws-actions/configure-aws-credentials@", "actions/attest-build-provenance@"),
    "attestations": ("actions/attest-build-provenance@",),
    "pull-requests": ("gh pr comment",),
}
DIGEST_IMAGE = "${{ needs.build.outputs.repository }}@${{ needs.build.outputs.digest }}"
BUILT_IMAGE = "${{ steps.image.outputs.repository }}@${{ steps.build.outputs.digest }}"


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


def test_the_build_fails_on_critical_findings_in_os_and_python_packages(
    jobs: dict[str, dict[str, Any]],
) -> None:
    steps = jobs["build"]["steps"]
    (scan,) = [s for s in steps if str(s.get("uses", "")).startswith("aquasecurity/trivy-action@")]
    settings = scan["with"]
    assert settings["image-ref"] == BUILT_IMAGE, "the scan reads the pushed digest, not a tag"
    # "library" is what reads the virtualenv's packages; ECR's basic scan reads "os" only.
    assert set(settings["vuln-type"].split(",")) == {"os", "library"}
    assert "vuln" in settings["scanners"].split(",")
    assert "CRITICAL" in settings["severity"].split(",")
    assert int(settings["exit-code"]) != 0
    assert str(settings.get("ignore-unfixed", "false")).lower() == "false"
    assert str(settings["cache"]).lower() == "false", "a publishing job restores no cache"
    assert not scan.get("continue-on-error"), "a finding must fail the job"
    ids = [s.get("id") for s in steps]
    assert ids.index("build") < steps.index(scan), "the scan reads what was built"
    # Every deploy waits for the build job, so a finding stops the release before staging.
    assert all("build" in upstream(jobs, n) for n in jobs if n.startswith("deploy-"))


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
    assert workflow["jobs"]["rollback"]["if"] == (
        "github.event_name == 'workflow_dispatch' && inputs.operation == 'rollback'"
    )


def test_a_replan_plans_main_as_it_is_now_and_applies_nothing(
    jobs: dict[str, dict[str, Any]],
) -> None:
    replan = jobs["replan"]
    condition = replan["if"]
    assert "github.event_name == 'workflow_dispatch'" in condition
    assert "inputs.operation == 'replan'" in condition
    assert "github.ref == 'refs/heads/main'" in condition, "only main's code is re-planned"
    assert environment_name(replan) == "${{ inputs.environment }}"
    assert replan["concurrency"] == {
        "group": "terraform-${{ inputs.environment }}",
        "cancel-in-progress": False,
    }, "a re-plan never overlaps an apply of its environment"
    checkout = next(s for s in replan["steps"] if "actions/checkout@" in s.get("uses", ""))
    assert "ref" not in checkout.get("with", {}), "the commit dispatched, nothing older"
    text = steps_text(replan)
    assert text.index("current-image") < text.index("terraform plan"), "plans the running digest"
    assert "-out=tfplan" in text
    assert "terraform apply" not in text, "applied only after review, by a release run"
    upload = next(s for s in replan["steps"] if "upload-artifact@" in s.get("uses", ""))
    assert upload["with"]["name"] == "tfplan-${{ inputs.environment }}"
    assert replan["env"]["ENVIRONMENT"] == "${{ inputs.environment }}"


def test_an_apply_prefers_a_replan_of_its_own_commit_to_the_pull_requests_plan(
    jobs: dict[str, dict[str, Any]],
) -> None:
    for name in ("apply-staging", "apply-production"):
        steps = jobs[name]["steps"]
        lookup = next(s for s in steps if s.get("id") == "reviewed")["run"]
        replan = lookup.index("--event workflow_dispatch")
        pull_request = lookup.index("--event pull_request")
        assert replan < pull_request, name
        # The re-plan must be of this very commit, on main, and hold this environment's plan.
        replan_query = lookup[:pull_request]
        assert '--commit "$GITHUB_SHA"' in replan_query, name
        assert "--branch main" in replan_query, name
        assert 'grep -qx "tfplan-${ENVIRONMENT}"' in replan_query, name
        assert '[[ -z "$run_id" && -n "$pr_head" ]]' in lookup, "the PR's plan only as fallback"
        download = next(s for s in steps if "download-artifact@" in s.get("uses", ""))
        assert download["with"]["name"] == "tfplan-${{ env.ENVIRONMENT }}"
        assert download["with"]["run-id"] == "${{ steps.reviewed.outputs.run-id }}"
