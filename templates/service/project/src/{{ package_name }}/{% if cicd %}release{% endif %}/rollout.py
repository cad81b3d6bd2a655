"""A release: migrate, roll out, watch, smoke-test, and roll back when any of it fails.

    register a revision with the new digest
    -> run the migrations as a one-off task of that revision (the service is untouched if they fail)
    -> update the service to the revision
    -> watch: the deployment completes, or an alarm fires / ECS fails it / time runs out
    -> smoke test the public URL
    -> any failure after the update: the service goes back to the revision it ran before.

"Before" is exact: the revision the service ran when the release started, read once before
anything else. The new revision is made from it (not from the family's latest, which another
deploy may have registered and never rolled out), and the service is only ever moved from the
revision this release expects it to run (`move_service`): a concurrent deploy is reported, not
overwritten.

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
    ServiceMovedError,
    Target,
    alarms_firing,
    move_service,
    primary_deployment,
    register_revision,
    run_migrations,
    running_revision,
    service_task_definition,
    smoke_test,
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


def watch(
    ecs: BaseClient, cloudwatch: BaseClient, target: Target, revision: str, checks: Checks
) -> str:
    """Wait for the deployment of `revision` to complete; returns why it failed, or "" when it
    completed. The service running another revision means ECS rolled back by itself (its circuit
    breaker or alarms: the service's task definition is the old one again, and that deployment
    may well complete) or someone else moved it: a failure, never a success."""
    deadline = time.monotonic() + checks.timeout
    while True:
        firing = alarms_firing(cloudwatch, checks.alarms)
        if firing:
            return f"alarm in ALARM: {', '.join(firing)}"
        running = service_task_definition(ecs, target)
        if running != revision:
            return f"the service runs {running} again, not {revision}"
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
    ecs: BaseClient,
    cloudwatch: BaseClient,
    target: Target,
    revision: str,
    checks: Checks,
    *,
    previous: str,
) -> Outcome:
    """Move the service from `previous` to `revision`; back to `previous` if the checks fail.

    Raises ServiceMovedError, touching nothing, when the service does not run `previous` (before
    the update) or runs neither revision (at the rollback)."""
    logger.info("updating %s: %s -> %s", target.service, previous, revision)
    move_service(ecs, target, previous, revision)
    problem = watch(ecs, cloudwatch, target, revision, checks)
    if not problem and checks.smoke_url:
        problem = smoke_test(checks.smoke_url, pause=checks.smoke_pause)
        if not problem:
            firing = alarms_firing(cloudwatch, checks.alarms)
            problem = f"alarm in ALARM: {', '.join(firing)}" if firing else ""
    if not problem:
        logger.info("deployed %s", revision)
        return Outcome(deployed=revision)
    logger.error("rolling back to %s: %s", previous, problem)
    if service_task_definition(ecs, target) == previous:
        logger.info("ECS already rolled %s back to %s", target.service, previous)
    else:
        try:
            move_service(ecs, target, revision, previous)
        except ServiceMovedError as moved:
            raise ServiceMovedError(f"{problem}; not rolled back: {moved}") from moved
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
    previous = running_revision(ecs, target)
    revision = register_revision(ecs, previous, image)
    logger.info("registered %s with %s (from %s)", revision, image, previous)
    if migration is not None:
        logger.info("running the migrations in a one-off task of %s", revision)
        run_migrations(ecs, target.cluster, revision, migration)
    return roll_out(ecs, cloudwatch, target, revision, checks, previous=previous)


__all__ = [
    "Checks",
    "DeployError",
    "Migration",
    "Outcome",
    "ServiceMovedError",
    "release",
    "roll_out",
    "watch",
]
