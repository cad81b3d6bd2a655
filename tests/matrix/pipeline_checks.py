"""Checks of the delivery pipeline a project gets with `cicd`: the release workflow audited by
zizmor with its strictest persona, and the pipeline's own Terraform (`deploy/pipeline/`)
formatted, and planned against the AWS emulator (the plan validates it first).

A project without the pipeline has neither file: each check then does nothing.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tests.matrix import static_checks
from tests.matrix.terraform_checks import (
    emulator_endpoint,
    emulator_override,
    plan_or_explain,
    terraform,
)

RELEASE_WORKFLOW = Path(".github/workflows/release.yml")
PIPELINE_DIR = Path("deploy/pipeline")
# With an existing OIDC provider its ARN is known at plan time, and so are the trust policies.
PLAN_VARIABLES = ("-var=github_repository=acme/matrix-svc", "-var=create_oidc_provider=false")


def release_workflow_audited(project: Path) -> None:
    """zizmor --persona pedantic finds nothing (offline: no GitHub API calls)."""
    if not (project / RELEASE_WORKFLOW).is_file():
        return
    zizmor = static_checks.require_tool("zizmor", "pip install zizmor (a test dependency)")
    static_checks.run(
        [zizmor, "--offline", "--persona", "pedantic", "--no-progress", str(RELEASE_WORKFLOW)],
        project,
    )


def pipeline_terraform(project: Path) -> dict[str, Any] | None:
    """fmt, then one init and a plan against the emulator (validate says why, if it fails);
    returns the plan as JSON."""
    if not (project / PIPELINE_DIR).is_dir():
        return None
    static_checks.run(["terraform", "fmt", "-check", "-diff", str(PIPELINE_DIR)], project)
    with tempfile.TemporaryDirectory(prefix="pipeline-check-") as scratch:
        folder = Path(scratch) / "pipeline"
        shutil.copytree(project / PIPELINE_DIR, folder)
        (folder / "moto_override.tf").write_text(emulator_override(emulator_endpoint()), "utf-8")
        terraform(folder, "init", "-input=false")
        plan_or_explain(folder, *PLAN_VARIABLES)
        plan: dict[str, Any] = json.loads(terraform(folder, "show", "-json", "plan.out").strip())
    plan_keeps_its_promises(plan)
    return plan


def plan_keeps_its_promises(plan: dict[str, Any]) -> None:
    """The roles trust one repository's subjects only, and the state bucket is private."""
    after = {c["address"]: c["change"]["after"] for c in plan["resource_changes"]}
    trusts = {
        address: json.loads(values["assume_role_policy"])
        for address, values in after.items()
        if address.startswith("aws_iam_role.")
    }
    assert set(trusts) == {
        "aws_iam_role.build",
        "aws_iam_role.plan",
        'aws_iam_role.deploy["staging"]',
        'aws_iam_role.deploy["production"]',
    }
    for address, trust in trusts.items():
        (statement,) = trust["Statement"]
        condition = statement["Condition"]["StringEquals"]
        assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
        subject = condition["token.actions.githubusercontent.com:sub"]
        assert subject.startswith("repo:acme/matrix-svc:"), (address, subject)
        assert "*" not in subject, (address, subject)
    block = after["aws_s3_bucket_public_access_block.state"]
    assert all(
        block[key]
        for key in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
    )
    assert after["aws_s3_bucket_versioning.state"]["versioning_configuration"][0]["status"] == (
        "Enabled"
    )
    for environment in ("staging", "production"):
        deploy_cannot_escalate(
            json.loads(
                after[f'aws_iam_role_policy.deploy_infrastructure["{environment}"]']["policy"]
            )
        )


def deploy_cannot_escalate(policy: dict[str, Any]) -> None:
    """The roles a deploy role makes carry the boundary, get no administrator policy, and the
    Service/Environment tags its writes trust cannot be put on someone else's resource."""
    denied = {s["Sid"]: s for s in policy["Statement"] if s["Effect"] == "Deny"}
    bounded = denied["OnlyBoundedServiceRoles"]
    assert {"iam:CreateRole", "iam:AttachRolePolicy"} <= set(bounded["Action"])
    boundary = bounded["Condition"]["StringNotEquals"]["iam:PermissionsBoundary"]
    assert str(boundary).endswith("-github-service-role-boundary"), boundary
    administrator = denied["NoAdministratorPolicies"]["Condition"]["ArnLike"]["iam:PolicyARN"]
    assert any(arn.endswith(":iam::aws:policy/AdministratorAccess*") for arn in administrator)
    for key in ("Service", "Environment"):
        tags = denied[f"KeepOthers{key}Tags"]
        assert "ec2:CreateTags" in tags["Action"] and "rds:AddTagsToResource" in tags["Action"]
        keys = tags["Condition"]["ForAnyValue:StringEquals"]["aws:TagKeys"]
        assert set(keys) == {"Environment", "Service"}, keys
