"""The generated project's own tests in groups, each run, traced and reused on its own.

One pytest run for the whole suite reads every capability's tests, so its result could only be
reused by a combination with every capability's files identical: in practice never. Split, a
capability's tests (``tests/integration/<package>/``, ``tests/unit/<package>/``: the template
names them after the catalog's ``Capability.package``) are two groups, one per folder, each
reusable by every combination whose tree is the same in what that group read; the "service"
group is the rest, run with an ``--ignore`` for each capability package of the whole catalog,
so that its arguments are the same in every combination. The core's tests that read no
capability, no settings and no app (``tests/unit/core/``, the template's) are a group of their
own the same way (``core-unit``): identical in every combination, they are reused by all but the
first, where in the service group they ran in each.

A capability's tests may be split further, when some of them read more than the rest (a
command run on an app of its partners too): ``tests/<kind>/<package>_<part>/`` is a group of its
own (``sharding_reshard``, the template's reshard command), keyed by what it alone reads, so the
capability's other tests are not keyed by those partners; the service group ignores every such
folder by a pattern (``--ignore-glob``), the same in every combination.

A group's result carries its matrix-probe summary; the summaries are merged so that the
combination's checks (every test passed, the interaction tests are declared right, tier 1's
tests left out still exist) are exactly those of one run.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from scaffold.catalog import CATALOG

SERVICE = "service"
CORE = "core"
"""The test folders of the service's own core (``tests/<kind>/core/``): grouped like a
capability package's, so that the service group, which runs them in no combination, keeps the
same arguments in every one."""
KINDS = ("integration", "unit")


@dataclass(frozen=True)
class Group:
    name: str
    folders: tuple[str, ...]
    """Its test folders (pytest's arguments); none: the project's testpaths."""
    ignored: tuple[str, ...] = ()
    ignored_patterns: tuple[str, ...] = ()
    """Folders left out by a pattern (``tests/unit/auth_*``): those of the capabilities' parts."""

    def owns(self, nodeid: str) -> bool:
        if self.folders:
            return any(nodeid.startswith(f"{folder}/") for folder in self.folders)
        top = "/".join(nodeid.split("::", 1)[0].split("/")[:3])  # tests/<kind>/<folder>
        return not any(nodeid.startswith(f"{folder}/") for folder in self.ignored) and not any(
            fnmatch(top, pattern) for pattern in self.ignored_patterns
        )

    def args(self, base: list[str], covered: tuple[str, ...], probe: str) -> list[str]:
        args = [*base, f"--matrix-probe-out={probe}"]
        mine = [test for test in covered if self.owns(test)]
        if mine:
            args.append(f"--matrix-covered={','.join(mine)}")
        ignored = [f"--ignore={folder}" for folder in self.ignored]
        patterns = [f"--ignore-glob={pattern}" for pattern in self.ignored_patterns]
        return [*args, *ignored, *patterns, *self.folders]


def capability_folders(package: str) -> tuple[str, ...]:
    return tuple(f"tests/{kind}/{package}" for kind in KINDS)


def part_patterns(package: str) -> tuple[str, ...]:
    """The folders of a capability's parts (``tests/<kind>/<package>_<part>``), as patterns."""
    return tuple(f"{folder}_*" for folder in capability_folders(package))


def group_name(package: str, kind: str) -> str:
    """``auth`` for a capability's integration tests, ``auth-unit`` for its unit tests."""
    return package if kind == "integration" else f"{package}-{kind}"


def groups(project: Path) -> list[Group]:
    """The service group, then one per capability package (and the core) and kind of test
    folder present in ``project``, and one per part of a capability's tests: a capability's unit
    tests build no app, so they read less than its integration tests and are reusable in more
    combinations when they run on their own."""
    capabilities = sorted({c.package for c in CATALOG if c.package})
    for name in (SERVICE, CORE):
        assert name not in capabilities, f"a capability package is named {name!r}: rename it"
    for package in capabilities:
        clash = [other for other in capabilities if other.startswith(f"{package}_")]
        assert not clash, f"{clash} would be parts of {package!r}'s tests: rename them"
    packages = [CORE, *capabilities]
    every = tuple(folder for package in packages for folder in capability_folders(package))
    patterns = tuple(pattern for package in capabilities for pattern in part_patterns(package))
    found = [Group(SERVICE, (), every, patterns)]
    for package in packages:
        for kind, folder in zip(KINDS, capability_folders(package), strict=True):
            if (project / folder).is_dir():
                found.append(Group(group_name(package, kind), (folder,)))
    for package in capabilities:
        for kind, pattern in zip(KINDS, part_patterns(package), strict=True):
            for part in sorted(project.glob(pattern)):
                if part.is_dir():
                    folder = part.relative_to(project).as_posix()
                    found.append(Group(group_name(part.name, kind), (folder,)))
    return found


def merged(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The probe summaries of several runs as if they were one run's."""
    counts: dict[str, int] = {}
    for summary in summaries:
        for outcome, count in summary["counts"].items():
            counts[outcome] = counts.get(outcome, 0) + count
    return {
        "counts": counts,
        "interactions": sorted(
            (t for s in summaries for t in s["interactions"]), key=lambda t: str(t["test"])
        ),
        "not_passed": sorted(n for s in summaries for n in s["not_passed"]),
        "covered_by_tier_1": sorted(n for s in summaries for n in s["covered_by_tier_1"]),
        "module_seconds": {m: v for s in summaries for m, v in s["module_seconds"].items()},
    }


def nothing_left_to_run(code: int, summary: dict[str, Any] | None) -> bool:
    """pytest's "no tests collected" (5) is a pass only when tier 1 made every test."""
    return bool(code == 5 and summary and not summary["counts"] and summary["covered_by_tier_1"])
