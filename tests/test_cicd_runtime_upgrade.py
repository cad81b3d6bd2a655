"""A project with CI/CD made before CI/CD lost its runtime part updates cleanly, edits and all.

Before, the release package had a protocol object (`release/capability.py`) and a settings
section (`release/config.py`), the service's lists named it, its fixtures were in
`tests/fixtures/release.py` and its workflow checks in `tests/unit/test_workflows.py`. The
template as it was then and today's become tags v1 and v2 of a team template; a project made at
v1, with its own edits committed, is updated to v2: no conflict, the user's edits stay, and
every other file is what v2 renders (the files v2 no longer has are gone).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.template_upgrade import assert_updates_cleanly, team_template

BEFORE_RUNTIME_LESS_CICD = "1134387"  # main before `Capability.runtime`
COMBINATIONS = (("cicd",), ("caching", "rate_limiting", "cicd"))
GONE = (
    "src/svc/release/capability.py",
    "src/svc/release/config.py",
    "tests/fixtures/release.py",
    "tests/unit/test_workflows.py",
)


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The team template (v1: then, v2: today) and the folder of the projects made at v1."""
    scratch = tmp_path_factory.mktemp("cicd-upgrade")
    made = {"+".join(c): ["--with", ",".join(c)] for c in COMBINATIONS}
    return team_template(BEFORE_RUNTIME_LESS_CICD, scratch, made), scratch / "projects"


@pytest.mark.parametrize("capabilities", COMBINATIONS, ids="+".join)
def test_a_project_with_cicd_updates_to_a_release_tool_without_runtime(
    capabilities: tuple[str, ...], upgrade: tuple[Path, Path], tmp_path: Path
) -> None:
    template, projects = upgrade
    made_at_v1 = projects / "+".join(capabilities) / "svc"
    for path in GONE:
        assert (made_at_v1 / path).is_file(), f"v1 had {path}"
    flags = ["--with", ",".join(capabilities)]

    project = assert_updates_cleanly(made_at_v1, template, flags, tmp_path)

    assert not [path for path in GONE if (project / path).exists()]
    assert "release" not in (project / "src/svc/capabilities.py").read_text(encoding="utf-8")
