"""AWS's rules for the names the generated Terraform builds, from each service's API reference.

Keyed by (resource type, attribute). Facts about AWS, not about the template: the suffixes the
template appends are read from the Terraform itself (tests/test_names_terraform.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from scaffold.names import POSTGRES_RESERVED_WORDS

# Letter first; letters, digits and single hyphens; no hyphen at the end (RDS, ElastiCache).
_RDS_STYLE = r"[a-z](?:-?[a-z0-9])*"
_ECS = r"[A-Za-z0-9_-]+"
_PRINTABLE = r"[^\x00-\x1f\x7f]+"
_COGNITO = r"[\w\s+=,.@-]+"


@dataclass(frozen=True)
class NameRule:
    what: str
    max_length: int
    pattern: str
    """The whole name must match it."""
    forbidden_prefixes: tuple[str, ...] = ()
    forbidden_values: Collection[str] = ()
    appended: int = 0
    """For ``name_prefix``: the characters Terraform appends to make the name unique."""
    min_length: int = 1

    def problem(self, value: str) -> str | None:
        """Why AWS would refuse ``value``, or None."""
        name = value + "0" * self.appended
        if not self.min_length <= len(name) <= self.max_length:
            return f"{self.what} {name!r} has {len(name)} characters (AWS: {self.max_length})"
        if not re.fullmatch(self.pattern, name):
            return f"{self.what} {name!r} does not match {self.pattern}"
        for prefix in self.forbidden_prefixes:
            if name.startswith(prefix):
                return f"{self.what} {name!r} starts with {prefix!r}"
        if name in self.forbidden_values:
            return f"{self.what} {name!r} is reserved"
        return None


RULES: dict[tuple[str, str], NameRule] = {
    ("aws_lb", "name"): NameRule(
        "load balancer name",
        32,
        r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?",
        forbidden_prefixes=("internal-",),
    ),
    ("aws_lb_target_group", "name"): NameRule(
        "target group name", 32, r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    ),
    ("aws_security_group", "name"): NameRule(
        "security group name",
        255,
        r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+",
        forbidden_prefixes=("sg-",),
    ),
    ("aws_ecr_repository", "name"): NameRule(
        "ECR repository name",
        256,
        r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
        min_length=2,
    ),
    ("aws_ecs_cluster", "name"): NameRule("ECS cluster name", 255, _ECS),
    ("aws_ecs_service", "name"): NameRule("ECS service name", 255, _ECS),
    ("aws_ecs_service", "container_name"): NameRule("ECS container name", 255, _ECS),
    ("aws_ecs_task_definition", "family"): NameRule("ECS task family", 255, _ECS),
    ("aws_appautoscaling_policy", "name"): NameRule(
        "scaling policy name", 256, r"[^\x00-\x1f\x7f:]+"
    ),
    ("aws_cloudwatch_metric_alarm", "alarm_name"): NameRule("alarm name", 255, _PRINTABLE),
    ("aws_iam_role", "name"): NameRule("IAM role name", 64, r"[\w+=,.@-]+"),
    ("aws_iam_role_policy", "name"): NameRule("IAM role policy name", 128, r"[\w+=,.@-]+"),
    ("aws_kms_alias", "name"): NameRule(
        "KMS alias", 256, r"alias/[A-Za-z0-9/_-]+", forbidden_prefixes=("alias/aws/",)
    ),
    ("aws_cloudwatch_log_group", "name"): NameRule("log group name", 512, r"[.\-_/#A-Za-z0-9]+"),
    ("aws_cloudwatch_log_resource_policy", "policy_name"): NameRule(
        "log resource policy name", 255, _PRINTABLE
    ),
    ("aws_db_subnet_group", "name"): NameRule(
        "DB subnet group name", 255, r"[a-z0-9 ._-]+", forbidden_values=("default",)
    ),
    ("aws_db_parameter_group", "name_prefix"): NameRule(
        "DB parameter group name", 255, _RDS_STYLE, appended=26
    ),
    ("aws_db_instance", "identifier"): NameRule("RDS instance identifier", 63, _RDS_STYLE),
    ("aws_db_instance", "final_snapshot_identifier"): NameRule(
        "RDS snapshot identifier", 255, _RDS_STYLE
    ),
    ("aws_db_instance", "db_name"): NameRule(
        "PostgreSQL database name",
        63,
        r"[A-Za-z][A-Za-z0-9_]*",
        forbidden_values=POSTGRES_RESERVED_WORDS,
    ),
    ("aws_elasticache_replication_group", "replication_group_id"): NameRule(
        "ElastiCache replication group id", 40, _RDS_STYLE
    ),
    ("aws_elasticache_subnet_group", "name"): NameRule(
        "ElastiCache subnet group name", 255, r"[a-z0-9-]+"
    ),
    ("aws_secretsmanager_secret", "name"): NameRule("secret name", 512, r"[A-Za-z0-9/_+=.@-]+"),
    ("aws_wafv2_web_acl", "name"): NameRule("web ACL name", 128, r"[\w-]+"),
    ("aws_prometheus_rule_group_namespace", "name"): NameRule(
        "Prometheus rule groups namespace name", 64, r"[0-9A-Za-z][-.0-9A-Z_a-z]*"
    ),
    ("aws_sns_topic", "name"): NameRule("SNS topic name", 256, r"[A-Za-z0-9_-]+"),
    ("aws_wafv2_web_acl", "metric_name"): NameRule("WAF metric name", 255, r"[\w#:.\-/]+"),
    # The Kafka API reference gives only the length; held to letters, digits and hyphens.
    ("aws_msk_serverless_cluster", "cluster_name"): NameRule(
        "MSK cluster name", 64, r"[A-Za-z0-9][A-Za-z0-9-]*"
    ),
    ("aws_mq_broker", "broker_name"): NameRule("Amazon MQ broker name", 50, r"[A-Za-z0-9_-]+"),
    ("aws_cognito_user_pool", "name"): NameRule("Cognito user pool name", 128, _COGNITO),
    ("aws_cognito_user_pool_client", "name"): NameRule("Cognito app client name", 128, _COGNITO),
    ("aws_cognito_resource_server", "name"): NameRule("resource server name", 256, _COGNITO),
    ("aws_cognito_resource_server", "identifier"): NameRule(
        "resource server identifier", 256, r"[\x21\x23-\x5b\x5d-\x7e]+"
    ),
    ("aws_cognito_resource_server", "scope_name"): NameRule(
        "scope name", 256, r"[\x21\x23-\x2e\x30-\x5b\x5d-\x7e]+"
    ),
    ("aws_cognito_user_group", "name"): NameRule("Cognito group name", 128, _PRINTABLE),
    ("aws_cognito_user_pool_domain", "domain"): NameRule(
        "Cognito domain prefix", 63, r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
    ),
}

DESCRIPTION = NameRule("description", 255, _PRINTABLE)
"""The tightest description limit among the resources that take one (security groups: 255)."""
TAG_VALUE = NameRule("tag value", 256, _PRINTABLE)

NAMING_KEYS = ("name", "name_prefix", "identifier", "family", "db_name", "domain")
NAMING_SUFFIXES = ("_name", "_id", "_identifier", "_prefix")


def is_naming_attribute(key: str) -> bool:
    return key in NAMING_KEYS or key.endswith(NAMING_SUFFIXES)
