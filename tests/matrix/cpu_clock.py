"""CPU seconds a matrix worker has cost so far: itself, the programs it ran and reaped, its
shared Terraform provider (not reaped until its watchdog ends) and the runs of its warm checkov
and mypy servers (forked and reaped by the server, which reports each run's CPU)."""

from __future__ import annotations

import resource

from tests.matrix import terraform_provider, warm_server


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (
        own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
        + terraform_provider.unreaped_cpu_seconds() + warm_server.forked_cpu_seconds()
    )  # fmt: skip
