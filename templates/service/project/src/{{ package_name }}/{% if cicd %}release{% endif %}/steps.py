"""The deploy steps, each one AWS call or one wait: composed by `rollout.py`.

An image is always named by digest (`<repository>@sha256:<64 hex>`): a tag can be pushed again,
a digest is the exact image that was built, scanned and attested.
"""

import re
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

from .aws import Response, call

DIGEST_REFERENCE = re.compile(r"^(?P<repository>[^@\s]+)@sha256:[0-9a-f]{64}$")
# What RegisterTaskDefinition accepts back from DescribeTaskDefinition.
REGISTERED_FIELDS = (
    "family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions",
    "volumes", "placementConstraints", "requiresCompatibilities", "cpu", "memory", "pidMode",
    "ipcMode", "proxyConfiguration", "ephemeralStorage", "runtimePlatform",
)  # fmt: skip


class DeployError(Exception):
    """A step failed; the message is one line for the workflow log."""


@dataclass(frozen=True)
class Target:
    """Where the release goes: one ECS service and the task definition family it runs."""

    cluster: str
    service: str
    family: str


def repository_of(image: str) -> str:
    """The repository of a digest reference; anything else is refused."""
    match = DIGEST_REFERENCE.match(image)
    if match is None:
        raise DeployError(f"not an image digest reference (<repository>@sha256:<hex>): {image!r}")
    return match["repository"]


def _repository_of_any(image: str) -> str:
    """The repository part of any reference: `repo@sha256:…`, `repo:tag` or `repo`."""
    name = image.split("@", 1)[0]
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > last_slash else name


def register_revision(ecs: BaseClient, base: str, image: str) -> str:
    """A new revision of the task definition `base` (an ARN: the one the service runs, read
    before anything else happens), with `image` in every container that ran an image of the
    same repository (the app and its `migrate` container); returns its ARN.

    Not the family's latest revision: another deploy may have registered one it has not rolled
    out (or has rolled back), and this release must not inherit it."""
    repository = repository_of(image)
    current = call(ecs, "describe_task_definition", taskDefinition=base, include=["TAGS"])
    definition: dict[str, Any] = current["taskDefinition"]
    containers = [
        {**c, "image": image} if _repository_of_any(c["image"]) == repository else c
        for c in definition["containerDefinitions"]
    ]
    if containers == definition["containerDefinitions"] and not any(
        c["image"] == image for c in containers
    ):
        raise DeployError(f"no container of {base} runs an image from {repository}")
    fields = {key: definition[key] for key in REGISTERED_FIELDS if definition.get(key)}
    fields["containerDefinitions"] = containers
    if current.get("tags"):
        fields["tags"] = current["tags"]
    registered = call(ecs, "register_task_definition", **fields)
    return str(registered["taskDefinition"]["taskDefinitionArn"])


def family_of(task_definition: str) -> str:
    """`arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>` -> `<family>`."""
    return task_definition.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def service_task_definition(ecs: BaseClient, target: Target) -> str:
    """The task definition the service runs now (what a rollback returns to)."""
    found = call(ecs, "describe_services", cluster=target.cluster, services=[target.service])
    services: list[Response] = found["services"]
    if not services or services[0].get("status") != "ACTIVE":
        raise DeployError(f"service {target.service} not found in cluster {target.cluster}")
    return str(services[0]["taskDefinition"])


def running_revision(ecs: BaseClient, target: Target) -> str:
    """The service's task definition, which must be a revision of the target's family."""
    running = service_task_definition(ecs, target)
    if family_of(running) != target.family:
        raise DeployError(
            f"service {target.service} runs {running}, not a revision of {target.family}"
        )
    return running


def image_of(ecs: BaseClient, task_definition: str, container: str) -> str:
    described = call(ecs, "describe_task_definition", taskDefinition=task_definition)
    for definition in described["taskDefinition"]["containerDefinitions"]:
        if definition["name"] == container:
            return str(definition["image"])
    raise DeployError(f"{task_definition} has no container named {container}")


@dataclass(frozen=True)
class Network:
    """awsvpc settings of a one-off Fargate task (AWS needs them; empty sends none)."""

    subnets: Sequence[str] = ()
    security_groups: Sequence[str] = ()

    def parameters(self) -> dict[str, Any]:
        if not self.subnets:
            return {"launchType": "FARGATE"}
        vpc = {
            "subnets": list(self.subnets),
            "securityGroups": list(self.security_groups),
            "assignPublicIp": "DISABLED",
        }
        return {"launchType": "FARGATE", "networkConfiguration": {"awsvpcConfiguration": vpc}}


@dataclass(frozen=True)
class Migration:
    """The one-off migration task: `command` in `container` of the new revision."""

    container: str
    command: Sequence[str] = ("alembic", "upgrade", "heads")
    network: Network = field(default_factory=Network)
    timeout: float = 900.0
    poll: float = 5.0


def run_migrations(
    ecs: BaseClient, cluster: str, task_definition: str, migration: Migration
) -> None:
    """Run the migrations as a one-off task of the new revision; wait until it stops and every
    container exited 0. The service is not touched until this has succeeded."""
    override = {"name": migration.container, "command": list(migration.command)}
    started = call(
        ecs,
        "run_task",
        cluster=cluster,
        taskDefinition=task_definition,
        count=1,
        startedBy="release-migrations",
        overrides={"containerOverrides": [override]},
        **migration.network.parameters(),
    )
    if started.get("failures") or not started.get("tasks"):
        raise DeployError(f"the migration task did not start: {started.get('failures')}")
    task_arn = str(started["tasks"][0]["taskArn"])
    deadline = time.monotonic() + migration.timeout
    while True:
        task = call(ecs, "describe_tasks", cluster=cluster, tasks=[task_arn])["tasks"][0]
        if task.get("lastStatus") == "STOPPED":
            break
        if time.monotonic() > deadline:
            call(ecs, "stop_task", cluster=cluster, task=task_arn, reason="migration timeout")
            raise DeployError(f"the migration task {task_arn} outlived {migration.timeout:.0f}s")
        time.sleep(migration.poll)
    exits = {c.get("name"): c.get("exitCode") for c in task.get("containers", [])}
    if not exits or any(code != 0 for code in exits.values()):
        reason = task.get("stoppedReason", "")
        raise DeployError(f"the migration task failed: exit codes {exits} {reason}".rstrip())


def update_service(ecs: BaseClient, target: Target, task_definition: str) -> None:
    call(
        ecs,
        "update_service",
        cluster=target.cluster,
        service=target.service,
        taskDefinition=task_definition,
    )


class ServiceMovedError(DeployError):
    """The service no longer runs what this release expects: someone else changed it."""


def move_service(ecs: BaseClient, target: Target, expected: str, task_definition: str) -> None:
    """Update the service from `expected` to `task_definition`, unless it runs something else:
    then another deploy (or a person) changed it meanwhile, and overwriting that would roll out
    or roll back a revision nobody checked. ECS has no conditional update, so this narrows the
    window to two calls; the workflow's concurrency groups close it for its own deploys."""
    running = service_task_definition(ecs, target)
    if running != expected:
        raise ServiceMovedError(
            f"service {target.service} runs {running}, not {expected}: changed by someone else"
        )
    update_service(ecs, target, task_definition)


def alarms_firing(cloudwatch: BaseClient, alarm_names: Sequence[str]) -> list[str]:
    if not alarm_names:
        return []
    found = call(cloudwatch, "describe_alarms", AlarmNames=list(alarm_names))
    return [a["AlarmName"] for a in found["MetricAlarms"] if a["StateValue"] == "ALARM"]


def primary_deployment(ecs: BaseClient, target: Target) -> Response:
    found = call(ecs, "describe_services", cluster=target.cluster, services=[target.service])
    deployments: list[Response] = found["services"][0]["deployments"]
    return next(d for d in deployments if d.get("status") == "PRIMARY")


def smoke_test(url: str, timeout: float = 10.0, attempts: int = 5, pause: float = 3.0) -> str:
    """GET `url` until it answers 2xx; returns what went wrong, or "" when it passed."""
    if not url.startswith(("https://", "http://")):
        raise DeployError(f"the smoke test URL must be http(s): {url!r}")
    problem = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(pause)
        try:
            with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 (scheme checked above)
                return ""
        except urllib.error.HTTPError as error:
            problem = f"{url} answered {error.code}"
        except (urllib.error.URLError, TimeoutError) as error:
            problem = f"{url} unreachable: {error}"
    return problem
