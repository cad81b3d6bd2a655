"""A release: migrate, roll out, watch, smoke-test, and roll back when any of it fails.

    register a revision with the new digest
    -> run the migrations as a one-off task of that revision (the service is untouched if they fail)
    -> update the service to the revision
    -> watch: the deployment completes, or an alarm fires / ECS fails it / time runs out
    -> smoke test the public URL
    -> any failure after the update: the service goes back to the revision it ran before.

ECS's own circuit breaker and alarm rollback (deploy/terraform/ecs.tf) still act inside a
deployment; this module adds the checks ECS cannot make (the smoke test, a deadline) and one
decision the workflow log shows.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from botocore.client import BaseClient

from .steps import (
    DeployError,
    Migration,
    Target,
    alarms_firing,
    primary_deployment,
    register_revision,
    run_migrations,
    service_task_definition,
    smoke_test,
    update_service,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checks:
    """What decides that a rollout failed."""

    alarms: Sequence[str] = ()
    smoke_url: str = ""
    timeout: float = 900.0
    poll: float = 10.0
    smoke_pause: float = 3.0
    """Seconds between the smoke test's attempts (a new task may need a moment behind the ALB)."""


@dataclass(frozen=True)
class Outcome:
    deployed: str
    """The task definition the service runs at the end."""
    rolled_back: bool = False
    reason: str = ""


def watch(ecs: BaseClient, cloudwatch: BaseClient, target: Target, checks: Checks) -> str:
    """Wait for the deployment to complete; returns why it failed, or "" when it completed."""
    deadline = time.monotonic() + checks.timeout
    while True:
        firing = alarms_firing(cloudwatch, checks.alarms)
        if firing:
            return f"alarm in ALARM: {', '.join(firing)}"
        deployment = primary_deployment(ecs, target)
        state = deployment.get("rolloutState")
        if state == "FAILED":
            return f"ECS failed the deployment: {deployment.get('rolloutStateReason', '')}"
        if state == "COMPLETED":
            return ""
        if time.monotonic() > deadline:
            return f"the deployment did not complete within {checks.timeout:.0f}s"
        time.sleep(checks.poll)


def roll_out(
    ecs: BaseClient, cloudwatch: BaseClient, target: Target, revision: str, checks: Checks
) -> Outcome:
    """Point the service at `revision`; go back to the previous one if the checks fail."""
    previous = service_task_definition(ecs, target)
    logger.info("updating %s: %s -> %s", target.service, previous, revision)
    update_service(ecs, target, revision)
    problem = watch(ecs, cloudwatch, target, checks)
    if not problem and checks.smoke_url:
        problem = smoke_test(checks.smoke_url, pause=checks.smoke_pause)
        if not problem:
            firing = alarms_firing(cloudwatch, checks.alarms)
            problem = f"alarm in ALARM: {', '.join(firing)}" if firing else ""
    if not problem:
        logger.info("deployed %s", revision)
        return Outcome(deployed=revision)
    logger.error("rolling back to %s: %s", previous, problem)
    update_service(ecs, target, previous)
    return Outcome(deployed=previous, rolled_back=True, reason=problem)


def release(
    ecs: BaseClient,
    cloudwatch: BaseClient,
    target: Target,
    *,
    image: str,
    checks: Checks,
    migration: Migration | None,
) -> Outcome:
    """Deploy `image` (a digest reference): new revision, migrations, rollout with rollback.

    `migration=None` skips the migrations: a rollback to an earlier image runs none (migrations
    are forward-only and backward compatible; see docs/deploy.md)."""
    revision = register_revision(ecs, target.family, image)
    logger.info("registered %s with %s", revision, image)
    if migration is not None:
        logger.info("running the migrations in a one-off task of %s", revision)
        run_migrations(ecs, target.cluster, revision, migration)
    return roll_out(ecs, cloudwatch, target, revision, checks)


__all__ = ["Checks", "DeployError", "Migration", "Outcome", "release", "roll_out", "watch"]
