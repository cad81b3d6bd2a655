"""`terraform apply` of the fullest combination against moto, then the deployed shape read back
through the AWS API: migrations before the app, the app's own database role, TLS, the WAF.

What the emulator cannot do is listed in EMULATOR_GAPS with the reason, and the test fails if
an apply error is not one of them, or if one of them stops happening (then the list is stale).
Every resource that is not behind a gap must exist afterwards. A test-only override makes the
gaps fail fast (FAIL_FAST) instead of after the provider's retries and timeouts. AWS-managed
IAM policies (the ECS execution role attaches one) exist in moto only when it runs with
MOTO_IAM_LOAD_MANAGED_POLICIES=true, which `scripts/services` sets.

Each run uses a project name of its own: moto keeps its state in memory for as long as it runs,
and other tests share it. One more gap is worked around rather than listed, because it breaks
what the rest of the apply needs (the main database's address): moto gives every RDS instance
the same DbiResourceId, and the provider finds its instance by that id, so a second instance in
the emulator breaks every instance's wait ("couldn't find resource"). The test deletes the
instances of earlier runs before applying and its own afterwards, and applies a topology of one
instance (``ONE_RDS_INSTANCE``); it fails when moto stops sharing the id (then that is stale).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import hcl2
import pytest

from scaffold.catalog import CATALOG
from scaffold.commands.new import NewOptions, create_project
from scaffold.selection import Request
from tests.matrix.terraform_checks import emulated, plan_arguments, terraform
from tests.support.service_env import required_env

pytestmark = [pytest.mark.slow, pytest.mark.services]


@dataclass(frozen=True)
class Gap:
    """An apply step the emulator cannot do: what happens, and the resources it leaves out."""

    error: str
    """A regular expression matching terraform's error (one line)."""
    why: str
    blocks: frozenset[str]
    redis_only: bool = False


EMULATOR_GAPS = (
    Gap(
        r"ElastiCache Replication Group \([^)]*-redis\)|Cache Cluster \([^)]*-redis-001\)",
        "moto creates an ElastiCache replication group without its member cache clusters, and "
        "the provider waits for them after creating the group: the group exists, Terraform "
        "marks it tainted, and what needs its endpoint (the REDIS_URL secret's value) is not "
        "applied",
        frozenset(
            {
                "aws_elasticache_replication_group.redis",
                "aws_secretsmanager_secret_version.redis_url",
            }
        ),
        redis_only=True,
    ),
    Gap(
        r"Application Auto ?Scaling.*ListTagsForResource",
        "moto's Application Auto Scaling has no ListTagsForResource (a 500), which the provider "
        "calls after registering the scalable target: the target is registered, Terraform marks "
        "it tainted, and the CPU policy on it is not applied",
        frozenset({"aws_appautoscaling_target.app", "aws_appautoscaling_policy.cpu"}),
    ),
    Gap(
        r"creating Prometheus Alert Manager Definition",
        "moto's Amazon Managed Service for Prometheus has no alert manager definitions (a 404 on "
        "CreateAlertManagerDefinition): the workspace and its rule groups are created, the "
        "definition that routes alerts to SNS is not (observability)",
        frozenset({"aws_prometheus_alert_manager_definition.main"}),
    ),
)
# The emulator's gaps fail fast instead of after the provider's patience: the replication
# group's create waits for member clusters moto never makes (60 min by default), and a 500 is
# retried 25 times with backoff. Three tries, not one: a connection the emulator drops under load
# ("use of closed network connection") is not a gap.
FAIL_FAST = """\
provider "aws" {
  max_retries = 3
}

resource "aws_elasticache_replication_group" "redis" {
  timeouts {
    create = "3m"
  }
}
"""
FAIL_FAST_WITHOUT_REDIS = FAIL_FAST.split("resource ", 1)[0]
ONE_RDS_INSTANCE = {"db_shard_count": "0", "db_replicas_per_shard": "0"}
"""The variables that add RDS instances to the main one (sharding's further shards and the read
replicas), set to none where the configuration declares them. moto (through 5.2.x) gives every
DB instance one literal DbiResourceId (`db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U`, moto/rds/models.py),
the provider keeps that id as the instance's and reads it back with a `dbi-resource-id` filter,
and two matches are none to it: with a second instance, the waits of both fail. The sharded
topology's defaults (one more shard, a replica of each) are planned against moto by the matrix
(`tests/matrix/terraform_checks.py`), only not applied here."""


def fullest_request() -> Request:
    available = tuple(sorted(c.name for c in CATALOG if c.available))
    return Request(with_=available)


def aws(service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=required_env("AWS_ENDPOINT_URL"),
        region_name=required_env("AWS_DEFAULT_REGION"),
        aws_access_key_id=required_env("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=required_env("AWS_SECRET_ACCESS_KEY"),
    )


def remove_databases_of_earlier_runs() -> None:
    rds = aws("rds")
    for instance in rds.describe_db_instances()["DBInstances"]:
        identifier = instance["DBInstanceIdentifier"]
        if identifier.startswith("e2e-"):
            rds.modify_db_instance(DBInstanceIdentifier=identifier, DeletionProtection=False)
            rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)


@contextmanager
def removing_databases() -> Iterator[None]:
    try:
        yield
    finally:
        remove_databases_of_earlier_runs()


def moto_shares_one_dbi_resource_id() -> bool:
    """Whether two DB instances made in the emulator get the same DbiResourceId (they are
    removed with the other instances of earlier runs, before the apply)."""
    rds = aws("rds")
    ids = {
        rds.create_db_instance(
            DBInstanceIdentifier=f"e2e-dbi-probe-{secrets.token_hex(4)}",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="probe",
            MasterUserPassword=secrets.token_hex(12),
        )["DBInstance"]["DbiResourceId"]
        for _ in range(2)
    }
    return len(ids) == 1


def declared_variables(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.glob("*.tf"):
        for block in hcl2.loads(path.read_text("utf-8")).get("variable", []):
            names.update(label.strip('"') for label in block)  # python-hcl2 keeps the quotes
    return names


def apply_errors(output: str) -> list[str]:
    """Each `Error:` block of terraform's output, as one line."""
    blocks = re.split(r"\n(?=Error: )", output)
    return [" ".join(block.split()) for block in blocks if block.startswith("Error: ")]


def test_apply_of_the_fullest_combination_against_the_emulator(tmp_path: Path) -> None:
    project = create_project(
        NewOptions(name="tfe2e", output_dir=tmp_path, request=fullest_request(), lock=False)
    ).target
    name = f"e2e-{secrets.token_hex(4)}"
    certificate = aws("acm").request_certificate(DomainName=f"{name}.example.com")
    variables = {
        "image_tag": "e2e",
        "project_name": name,
        "environment": "production",
        "certificate_arn": certificate["CertificateArn"],
        "deletion_protection": "false",
    }
    has_redis = (project / "deploy/terraform/elasticache.tf").exists()
    assert moto_shares_one_dbi_resource_id(), (
        "moto gives each RDS instance a DbiResourceId of its own now: remove ONE_RDS_INSTANCE"
    )
    remove_databases_of_earlier_runs()
    with emulated(project) as folder, removing_databases():
        fail_fast = FAIL_FAST if has_redis else FAIL_FAST_WITHOUT_REDIS
        (folder / "e2e_fail_fast_override.tf").write_text(fail_fast, "utf-8")
        declared = declared_variables(folder)
        variables.update({k: v for k, v in ONE_RDS_INSTANCE.items() if k in declared})
        terraform(folder, "plan", "-input=false", "-out=plan.out", *plan_arguments(variables))
        plan = json.loads(terraform(folder, "show", "-json", "plan.out"))
        output = terraform(folder, "apply", "-input=false", "plan.out", expect_success=False)
        state = set(terraform(folder, "state", "list").split())

    errors = apply_errors(output)
    gaps = [gap for gap in EMULATOR_GAPS if has_redis or not gap.redis_only]
    unexplained = [e for e in errors if not any(re.search(gap.error, e) for gap in gaps)]
    assert unexplained == [], "\n".join(unexplained)
    stale = [g.error for g in gaps if not any(re.search(g.error, e) for e in errors)]
    assert stale == [], f"the emulator does this now; remove it from EMULATOR_GAPS: {stale}"
    planned = {change["address"] for change in plan["resource_changes"]}
    instances = sorted(a for a in planned if a.startswith("aws_db_instance."))
    assert instances == ["aws_db_instance.main"], f"one RDS instance in moto: {instances}"
    blocked = set().union(*(gap.blocks for gap in gaps))
    missing = planned - state
    assert missing <= blocked, sorted(missing - blocked)
    assert len(planned - blocked) >= 70, len(planned - blocked)

    cluster = f"{name}-production"
    task = aws("ecs").describe_task_definition(taskDefinition=cluster)["taskDefinition"]
    # The app's container is named after the project (var.project_name).
    the_task_migrates_before_the_app_starts(task["containerDefinitions"], name)
    the_app_logs_in_as_its_own_role_over_verified_tls(task["containerDefinitions"], name)
    port_80_redirects_to_https(cluster)
    the_waf_refuses_large_bodies(cluster)


def the_task_migrates_before_the_app_starts(containers: list[dict[str, Any]], app: str) -> None:
    by_name = {c["name"]: c for c in containers}
    migrate, app_container = by_name["migrate"], by_name[app]
    assert migrate["command"] == ["alembic", "upgrade", "heads"]
    assert migrate["essential"] is False
    assert app_container["dependsOn"] == [{"containerName": "migrate", "condition": "SUCCESS"}]
    assert migrate["image"] == app_container["image"]


def the_app_logs_in_as_its_own_role_over_verified_tls(
    containers: list[dict[str, Any]], app: str
) -> None:
    by_name = {c["name"]: c for c in containers}
    app_env = {e["name"]: e["value"] for e in by_name[app]["environment"]}
    app_secrets = {s["name"] for s in by_name[app].get("secrets", [])}
    migrate_env = {e["name"]: e["value"] for e in by_name["migrate"]["environment"]}
    migrate_secrets = {s["name"] for s in by_name["migrate"].get("secrets", [])}
    assert app_env["DATABASE_USER"] == "app_runtime"
    assert app_env["DATABASE_IAM_AUTH"] == "true"
    assert app_env["DATABASE_SSLMODE"] == migrate_env["DATABASE_SSLMODE"] == "verify-full"
    assert app_env["PGSSLROOTCERT"] == "/app/certs/rds-global-bundle.pem"
    assert "DATABASE_PASSWORD" not in app_secrets  # the master password stays with migrate
    assert {"DATABASE_USER", "DATABASE_PASSWORD"} <= migrate_secrets
    assert migrate_env["DATABASE_APP_ROLE"] == "app_runtime"


def port_80_redirects_to_https(load_balancer: str) -> None:
    elbv2 = aws("elbv2")
    arn = elbv2.describe_load_balancers(Names=[load_balancer])["LoadBalancers"][0]
    listeners = elbv2.describe_listeners(LoadBalancerArn=arn["LoadBalancerArn"])["Listeners"]
    http = next(listener for listener in listeners if listener["Port"] == 80)
    action = http["DefaultActions"][0]
    assert action["Type"] == "redirect"
    assert (action["RedirectConfig"]["Protocol"], action["RedirectConfig"]["Port"]) == (
        "HTTPS",
        "443",
    )
    assert {listener["Port"] for listener in listeners} == {80, 443}


def the_waf_refuses_large_bodies(name: str) -> None:
    wafv2 = aws("wafv2")
    summary = next(
        acl
        for acl in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"]
        if acl["Name"] == f"{name}-edge"
    )
    acl = wafv2.get_web_acl(Name=summary["Name"], Scope="REGIONAL", Id=summary["Id"])["WebACL"]
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    body = rules["request-body-too-large"]
    assert body["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 413
    assert "known-bad-inputs" in rules
