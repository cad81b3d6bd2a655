"""`python -m <package>.release deploy|rollback|current-image ...`: what the release workflow runs.

Exit status 0 when the image is serving, 1 when the rollout was rolled back or a step failed
(one line on stderr says why), 2 for bad arguments.
"""

import argparse
import logging
import sys
from collections.abc import Sequence

from .aws import client
from .rollout import Checks, release
from .steps import DeployError, Migration, Network, Target, image_of, service_task_definition


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="release", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    def with_target(name: str, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--cluster", required=True)
        command.add_argument("--service", required=True)
        return command

    for name, help_text in (
        ("deploy", "migrate, then roll out an image, rolling back on failure"),
        ("rollback", "roll out an earlier image (no migrations), rolling back on failure"),
    ):
        command = with_target(name, help_text)
        command.add_argument("--family", required=True, help="task definition family")
        command.add_argument("--image", required=True, help="<repository>@sha256:<digest>")
        command.add_argument("--alarm", action="append", default=[], help="repeatable")
        command.add_argument("--smoke-url", default="", help="GET after the rollout, expect 2xx")
        command.add_argument("--timeout", type=float, default=900.0, help="rollout seconds")
        command.add_argument(
            "--poll", type=float, default=10.0, help="seconds between checks (rollout, migration)"
        )
        if name == "deploy":
            command.add_argument("--container", required=True, help="runs the migrations")
            command.add_argument("--subnet", action="append", default=[], help="repeatable")
            command.add_argument("--security-group", action="append", default=[])
    current = with_target("current-image", "print the image a container of the service runs")
    current.add_argument("--container", required=True)
    return top


def run(arguments: argparse.Namespace) -> int:
    ecs = client("ecs")
    target = Target(arguments.cluster, arguments.service, getattr(arguments, "family", ""))
    if arguments.command == "current-image":
        running = service_task_definition(ecs, target)
        sys.stdout.write(image_of(ecs, running, arguments.container) + "\n")
        return 0
    checks = Checks(
        alarms=tuple(arguments.alarm),
        smoke_url=arguments.smoke_url,
        timeout=arguments.timeout,
        poll=arguments.poll,
    )
    migration = None
    if arguments.command == "deploy":
        network = Network(tuple(arguments.subnet), tuple(arguments.security_group))
        migration = Migration(arguments.container, network=network, poll=arguments.poll)
    outcome = release(
        ecs, client("cloudwatch"), target, image=arguments.image, checks=checks, migration=migration
    )
    if outcome.rolled_back:
        sys.stderr.write(f"release: rolled back to {outcome.deployed}: {outcome.reason}\n")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        return run(arguments)
    except DeployError as error:
        sys.stderr.write(f"release: {error}\n")
        return 1


if __name__ == "__main__":
    # Here, not in main(): a caller (the tests) keeps its own logging configuration.
    logging.basicConfig(level=logging.INFO, format="release: %(message)s", stream=sys.stderr)
    sys.exit(main())
