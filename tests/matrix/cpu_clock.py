"""CPU seconds a matrix worker has cost so far: itself, the programs it ran and reaped, its
shared Terraform provider (not reaped until its watchdog ends) and the scans of its warm checkov
server (forked and reaped by the server, which reports each scan's CPU)."""

from __future__ import annotations

import resource

from tests.matrix import checkov_runner, terraform_provider


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (
        own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
        + terraform_provider.unreaped_cpu_seconds() + checkov_runner.scan_cpu_seconds()
    )  # fmt: skip
