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
With sharding, the defaults' topology (a shard besides the main instance, a replica of each) is
planned instead, and checked in the plan.

Where the fullest combination has a choice, it is applied with the one moto runs to the end
(``APPLIED_VARIANTS``: RabbitMQ on Amazon MQ, checked private, over TLS, encrypted, and in the app's
and the worker's secrets). Multi-tenancy's Stripe keys are read back as one secret under the
service's key, referenced by the app's STRIPE_API_KEY / STRIPE_WEBHOOK_SECRET and readable by
the execution role. Kafka on MSK Serverless is a gap (the cluster never becomes ACTIVE in
moto, and the task definitions need its brokers): the Kafka render's msk.tf is applied on its own
(``KAFKA_RESOURCES``, targeted) up to that gap, and the cluster read back.
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
    """The resources it leaves out; the gap is expected where one of them is planned."""


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
    Gap(
        r"waiting for MSK Serverless Cluster \([^)]*\) create",
        "moto creates an MSK Serverless cluster but leaves it CREATING (it never becomes "
        "ACTIVE) and has no GetBootstrapBrokers: the provider's wait for it times out "
        "(FAIL_FAST), Terraform marks it tainted, and what needs it is not applied: the task "
        "role's kafka policy, and the task definitions (KAFKA_BOOTSTRAP_SERVERS) with all that "
        "follows them. So the fullest combination is applied with the broker moto runs to the "
        "end (APPLIED_VARIANTS), Kafka's own resources are applied as far as moto goes "
        "(KAFKA_RESOURCES), and the blocked ones are planned: here, and by the matrix for every "
        "combination with Kafka (tests/matrix/terraform_checks.py)",
        frozenset(
            {
                "aws_msk_serverless_cluster.main",
                "data.aws_iam_policy_document.kafka",
                "aws_iam_role_policy.task_kafka",
            }
        ),
    ),
)
# The emulator's gaps fail fast instead of after the provider's patience: the replication
# group's create waits for member clusters moto never makes (60 min by default), the MSK
# Serverless cluster's for a state moto never reaches (120 min), and a 500 is retried 25 times
# with backoff. Three tries, not one: a connection the emulator drops under load ("use of closed
# network connection") is not a gap.
FAIL_FAST_PROVIDER = """\
provider "aws" {
  max_retries = 3
}
"""
FAIL_FAST = {
    ("aws_elasticache_replication_group", "redis"): "3m",
    ("aws_msk_serverless_cluster", "main"): "20s",
}
"""The create timeout of each resource whose wait is a gap, overridden where it is declared
(an override of an undeclared resource is an error)."""


def fail_fast_override(folder: Path) -> str:
    configuration = "".join(path.read_text("utf-8") for path in sorted(folder.glob("*.tf")))
    waits = [
        f'resource "{kind}" "{name}" {{\n  timeouts {{\n    create = "{timeout}"\n  }}\n}}\n'
        for (kind, name), timeout in FAIL_FAST.items()
        if f'resource "{kind}" "{name}"' in configuration
    ]
    return "\n".join([FAIL_FAST_PROVIDER, *waits])


ONE_RDS_INSTANCE = {"db_shard_count": "0", "db_replicas_per_shard": "0"}
"""The variables that add RDS instances to the main one (sharding's further shards and the read
replicas), set to none where the configuration declares them. moto (through 5.2.x) gives every
DB instance one literal DbiResourceId (`db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U`, moto/rds/models.py),
the provider keeps that id as the instance's and reads it back with a `dbi-resource-id` filter,
and two matches are none to it: with a second instance, the waits of both fail. The sharded
topology's defaults (one more shard, a replica of each) are planned against moto by the matrix
(`tests/matrix/terraform_checks.py`), only not applied here."""


APPLIED_VARIANTS = {"messaging_broker": "rabbitmq"}
"""Where the fullest combination has a choice, the one it is applied with: moto runs Amazon MQ to
the end, MSK Serverless it does not (its gap in EMULATOR_GAPS), and the task definitions need the
broker. Every other choice is applied as far as moto goes (``KAFKA_RESOURCES``)."""
KAFKA_RESOURCES = (
    "aws_msk_serverless_cluster.main",
    "aws_vpc_security_group_ingress_rule.kafka_from_service",
    "aws_vpc_security_group_egress_rule.service_to_kafka",
    "aws_iam_role_policy.task_kafka",
)
"""msk.tf's resources: what the Kafka render's apply targets (with what they depend on: the
network, the task role)."""


def fullest_request(**choices: str) -> Request:
    available = CATALOG.available
    offered = {c.answer_key(v) for c in available for v in c.variants}
    variants = {k: v for k, v in {**APPLIED_VARIANTS, **choices}.items() if k in offered}
    return Request(with_=tuple(sorted(c.name for c in available)), variants=variants)


def kafka_is_offered() -> bool:
    return any(
        c.answer_key(v) == "messaging_broker" and "kafka" in v.choices
        for c in CATALOG.available
        for v in c.variants
    )


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


def deployment(name: str) -> dict[str, str]:
    """The variables of a production deployment named ``name``, with a certificate of its own."""
    certificate = aws("acm").request_certificate(DomainName=f"{name}.example.com")
    return {
        "image_tag": "e2e",
        "project_name": name,
        "environment": "production",
        "certificate_arn": certificate["CertificateArn"],
        "deletion_protection": "false",
    }


def plan_and_apply(folder: Path, *arguments: str) -> tuple[set[str], str, set[str]]:
    """Plan (with the fail-fast override), apply what was planned: the planned addresses,
    the apply's output and the addresses in the state afterwards."""
    (folder / "e2e_fail_fast_override.tf").write_text(fail_fast_override(folder), "utf-8")
    terraform(folder, "plan", "-input=false", "-out=plan.out", *arguments)
    plan = json.loads(terraform(folder, "show", "-json", "plan.out"))
    output = terraform(folder, "apply", "-input=false", "plan.out", expect_success=False)
    state = set(terraform(folder, "state", "list").split())
    return {change["address"] for change in plan["resource_changes"]}, output, state


def planned_gaps(planned: set[str]) -> list[Gap]:
    return [gap for gap in EMULATOR_GAPS if gap.blocks & planned]


def unexplained_errors(planned: set[str], output: str) -> list[str]:
    """The apply's errors that no gap of a planned resource explains."""
    gaps = planned_gaps(planned)
    return [e for e in apply_errors(output) if not any(re.search(g.error, e) for g in gaps)]


def only_the_gaps_failed(planned: set[str], output: str, state: set[str]) -> set[str]:
    """Every apply error is a gap of a planned resource, every such gap happened, and what is
    not in the state is what those gaps leave out (returned)."""
    errors = apply_errors(output)
    gaps = planned_gaps(planned)
    unexplained = unexplained_errors(planned, output)
    assert unexplained == [], "\n".join(unexplained)
    stale = [g.error for g in gaps if not any(re.search(g.error, e) for e in errors)]
    assert stale == [], f"the emulator does this now; remove it from EMULATOR_GAPS: {stale}"
    blocked: set[str] = set().union(*(gap.blocks for gap in gaps))
    missing = planned - state
    assert missing <= blocked, sorted(missing - blocked)
    return blocked


RETRIED_CREATE = re.compile(r"InvalidPermission\.Duplicate|AlreadyExists|already exists")
"""What a create the provider sent twice gets the second time. Under load moto sometimes drops
the connection after it has made a resource and before its answer reaches the provider, which
retries (``FAIL_FAST_PROVIDER``: a dropped connection is retried) and is told the resource is
there already (hashicorp/terraform-provider-aws#14163). A configuration that declares a
resource twice fails alike, but on every try, so it still fails the test."""


def only_retried_creates_failed(planned: set[str], output: str) -> bool:
    """Whether the apply's errors beyond the gaps are all duplicates of a retried create."""
    errors = unexplained_errors(planned, output)
    return bool(errors) and all(RETRIED_CREATE.search(e) for e in errors)


def apply_the_fullest(output_dir: Path) -> tuple[str, set[str], str, set[str]]:
    """The fullest combination rendered and applied under a deployment name of its own: the
    name, the planned addresses, the apply's output and the state's addresses."""
    project = create_project(
        NewOptions(name="tfe2e", output_dir=output_dir, request=fullest_request(), lock=False)
    ).target
    name = f"e2e-{secrets.token_hex(4)}"
    variables = deployment(name)
    remove_databases_of_earlier_runs()
    with emulated(project) as folder, removing_databases():
        declared = declared_variables(folder)
        one_instance = {k: v for k, v in ONE_RDS_INSTANCE.items() if k in declared}
        if one_instance:
            the_sharded_topology_is_planned(folder, variables)
        planned, output, state = plan_and_apply(
            folder, *plan_arguments({**variables, **one_instance})
        )
    return name, planned, output, state


def test_apply_of_the_fullest_combination_against_the_emulator(tmp_path: Path) -> None:
    assert moto_shares_one_dbi_resource_id(), (
        "moto gives each RDS instance a DbiResourceId of its own now: remove ONE_RDS_INSTANCE"
    )
    name, planned, output, state = apply_the_fullest(tmp_path / "first")
    if only_retried_creates_failed(planned, output):  # once, under a new name: RETRIED_CREATE
        name, planned, output, state = apply_the_fullest(tmp_path / "again")

    blocked = only_the_gaps_failed(planned, output, state)
    instances = sorted(a for a in planned if a.startswith("aws_db_instance."))
    assert instances == ["aws_db_instance.main"], f"one RDS instance in moto: {instances}"
    assert len(planned - blocked) >= 70, len(planned - blocked)

    cluster = f"{name}-production"
    task = aws("ecs").describe_task_definition(taskDefinition=cluster)["taskDefinition"]
    # The app's container is named after the project (var.project_name).
    the_task_migrates_before_the_app_starts(task["containerDefinitions"], name)
    the_app_logs_in_as_its_own_role_over_verified_tls(task["containerDefinitions"], name)
    port_80_redirects_to_https(cluster)
    the_waf_refuses_large_bodies(cluster)
    if "aws_mq_broker.rabbitmq" in planned:
        the_broker_is_private_over_tls_and_reaches_the_app_as_a_secret(cluster, task, name)
    if "multitenancy" in {c.name for c in CATALOG.available}:
        the_stripe_keys_reach_the_app_from_their_own_encrypted_secret(cluster, task, name)
    if kafka_is_offered():
        kafka_as_far_as_the_emulator_goes(tmp_path / "kafka")


def the_sharded_topology_is_planned(folder: Path, variables: dict[str, str]) -> None:
    """The defaults' topology (one shard besides the main instance, a replica of each), which
    moto cannot hold (``ONE_RDS_INSTANCE``): each replica follows its own shard, and every
    instance is private, encrypted and reached by the app's role with IAM."""
    terraform(folder, "plan", "-input=false", "-out=sharded.out", *plan_arguments(variables))
    plan = json.loads(terraform(folder, "show", "-json", "sharded.out"))
    after = {c["address"]: c["change"]["after"] for c in plan["resource_changes"]}
    instances = {a: v for a, v in after.items() if a.startswith("aws_db_instance.")}
    assert sorted(instances) == [
        "aws_db_instance.main",
        'aws_db_instance.replica["0-0"]',
        'aws_db_instance.replica["1-0"]',
        "aws_db_instance.shard[0]",
    ]
    sources = {a: v.get("replicate_source_db") for a, v in instances.items() if "replica" in a}
    assert sources == {
        'aws_db_instance.replica["0-0"]': instances["aws_db_instance.main"]["identifier"],
        'aws_db_instance.replica["1-0"]': instances["aws_db_instance.shard[0]"]["identifier"],
    }
    for address, instance in instances.items():
        assert instance["iam_database_authentication_enabled"] is True, address
        assert instance["storage_encrypted"] is True, address
        assert instance["publicly_accessible"] is False, address
    assert "aws_iam_role_policy.task_shards[0]" in after


def kafka_as_far_as_the_emulator_goes(output_dir: Path) -> None:
    """The fullest combination with Kafka, its msk.tf applied (targeted) up to MSK Serverless's
    gap: the cluster is made as declared, private and with IAM authentication only."""
    project = create_project(
        NewOptions(
            name="tfe2e",
            output_dir=output_dir,
            request=fullest_request(messaging_broker="kafka"),
            lock=False,
        )
    ).target
    name = f"e2e-{secrets.token_hex(4)}"
    targets = [f"-target={address}" for address in KAFKA_RESOURCES]
    with emulated(project) as folder:
        planned, output, state = plan_and_apply(folder, *targets, *plan_arguments(deployment(name)))
    assert set(KAFKA_RESOURCES) <= planned
    only_the_gaps_failed(planned, output, state)
    assert "aws_msk_serverless_cluster.main" in state  # made, then tainted by the gap

    local_name = f"{name}-production"
    (cluster,) = aws("kafka").list_clusters_v2(ClusterNameFilter=local_name)["ClusterInfoList"]
    assert cluster["ClusterType"] == "SERVERLESS"
    serverless = cluster["Serverless"]
    assert serverless["ClientAuthentication"] == {"Sasl": {"Iam": {"Enabled": True}}}
    (vpc_config,) = serverless["VpcConfigs"]
    ec2 = aws("ec2")
    (kafka_group,) = vpc_config["SecurityGroupIds"]
    groups = ec2.describe_security_groups(GroupIds=[kafka_group])["SecurityGroups"]
    assert groups[0]["GroupName"] == f"{local_name}-kafka"
    subnets = ec2.describe_subnets(SubnetIds=vpc_config["SubnetIds"])["Subnets"]
    names = sorted(tag["Value"] for s in subnets for tag in s["Tags"] if tag["Key"] == "Name")
    assert names and all(n.startswith(f"{local_name}-private-") for n in names), names
    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [kafka_group]}]
    )["SecurityGroupRules"]
    ingress = [r for r in rules if not r["IsEgress"]]
    assert [(r["FromPort"], r["ToPort"]) for r in ingress] == [(9098, 9098)]
    assert ingress[0]["ReferencedGroupInfo"]["GroupId"] != kafka_group  # the service's group


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


def the_stripe_keys_reach_the_app_from_their_own_encrypted_secret(
    name: str, task: dict[str, Any], app: str
) -> None:
    """Multi-tenancy's billing (issue 13, item 8): the Stripe secret key and webhook signing
    secret are the two keys of one Secrets Manager secret, encrypted with the service's own key,
    given to the app's container as STRIPE_API_KEY / STRIPE_WEBHOOK_SECRET by reference (never
    as plain environment), and readable by the task's execution role, which resolves them."""
    manager = aws("secretsmanager")
    stripe = manager.describe_secret(SecretId=f"{name}/stripe")
    project_key = manager.describe_secret(SecretId=f"{name}/app")["KmsKeyId"]
    assert stripe["KmsKeyId"] == project_key and project_key
    value = json.loads(manager.get_secret_value(SecretId=stripe["ARN"])["SecretString"])
    assert sorted(value) == ["api_key", "webhook_secret"]
    by_name = {c["name"]: c for c in task["containerDefinitions"]}
    given = {s["name"]: s["valueFrom"] for s in by_name[app]["secrets"]}
    assert given["STRIPE_API_KEY"] == f"{stripe['ARN']}:api_key::"
    assert given["STRIPE_WEBHOOK_SECRET"] == f"{stripe['ARN']}:webhook_secret::"
    plain = {e["name"] for e in by_name[app]["environment"]}
    assert not {"STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"} & plain
    iam = aws("iam")
    role = task["executionRoleArn"].rsplit("/", 1)[-1]
    policies = [
        json.dumps(iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"])
        for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    assert any(stripe["ARN"] in policy for policy in policies), policies


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


def the_broker_is_private_over_tls_and_reaches_the_app_as_a_secret(
    name: str, task: dict[str, Any], app: str
) -> None:
    mq = aws("mq")
    summary = next(b for b in mq.list_brokers()["BrokerSummaries"] if b["BrokerName"] == name)
    broker = mq.describe_broker(BrokerId=summary["BrokerId"])
    assert broker["EngineType"].lower() == "rabbitmq"
    assert broker["PubliclyAccessible"] is False
    assert broker["EncryptionOptions"]["UseAwsOwnedKey"] is False
    assert broker["Logs"]["General"] is True
    endpoint = broker["BrokerInstances"][0]["Endpoints"][0]
    assert endpoint.startswith("amqps://") and endpoint.endswith(":5671")
    by_name = {c["name"]: c for c in task["containerDefinitions"]}
    url = next(s for s in by_name[app]["secrets"] if s["name"] == "RABBITMQ_URL")
    secret = aws("secretsmanager").get_secret_value(SecretId=url["valueFrom"])["SecretString"]
    assert secret.startswith("amqps://app:") and secret.endswith(":5671/")
    worker = aws("ecs").describe_task_definition(taskDefinition=f"{name}-worker")
    (container,) = worker["taskDefinition"]["containerDefinitions"]
    assert {s["name"] for s in container["secrets"]} == {s["name"] for s in by_name[app]["secrets"]}
