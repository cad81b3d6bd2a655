"""A project made before the capability protocol updates to it cleanly, edits and all.

The template as it was at scaffold 0.1.0 (before capabilities plugged in through the protocol)
is taken from this repository's history; it and today's template become tags v1 and v2 of a
team template. A project made at v1 with each combination, with its own edits committed, is
updated to v2: the merge has no conflict, the user's edits stay, and every other file is what
v2 renders.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.matrix import combinations
from scaffold.selection import Selection
from tests.support.template_upgrade import assert_updates_cleanly, team_template

BEFORE_THE_PROTOCOL = "cd41bf7"  # the last commit of scaffold 0.1.0's template
OLD_CAPABILITIES = ("caching", "rate_limiting")


def old_combinations() -> list[Selection]:
    return [s for s in combinations() if s.capabilities <= set(OLD_CAPABILITIES)]


def with_flags(combination: Selection) -> list[str]:
    capabilities = sorted(combination.capabilities)
    return ["--with", ",".join(capabilities)] if capabilities else []


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The team template and the folder of the projects made at v1, one per combination."""
    scratch = tmp_path_factory.mktemp("upgrade")
    made = {c.label(): with_flags(c) for c in old_combinations()}
    return team_template(BEFORE_THE_PROTOCOL, scratch, made), scratch / "projects"


@pytest.mark.parametrize(
    "combination", old_combinations(), ids=[s.label() for s in old_combinations()]
)
def test_a_project_from_before_the_protocol_updates_cleanly(
    combination: Selection, upgrade: tuple[Path, Path], tmp_path: Path
) -> None:
    template, projects = upgrade
    made_at_v1 = projects / combination.label() / "svc"
    assert_updates_cleanly(made_at_v1, template, with_flags(combination), tmp_path)
