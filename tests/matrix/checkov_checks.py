"""Checkov on the generated Terraform, with each folder's own configuration: the service's
infrastructure (`deploy/terraform/.checkov.yaml`, every project) and the delivery pipeline's
(`deploy/pipeline/.checkov.yaml`, with `cicd`). The configuration names the folder, the framework
and the skipped checks, each with its reason; what is not skipped must pass. A project without a
configuration has nothing to check.

checkov is installed by `scripts/install-linters` in a virtualenv of its own (its pinned
dependencies conflict with the test extras'), and runs in a warm server per worker
(``checkov_runner``): a fresh checkov run per scan without paying its imports each time.
"""

from __future__ import annotations

from pathlib import Path

from tests.matrix import static_checks
from tests.matrix.checkov_runner import run_checkov

CONFIGURATIONS = (
    Path("deploy/terraform/.checkov.yaml"),
    Path("deploy/pipeline/.checkov.yaml"),
)


def home_configuration() -> tuple[str, ...]:
    """checkov also reads a configuration in the user's home (after the project's)."""
    return tuple(str(Path.home() / name) for name in (".checkov.yaml", ".checkov.yml"))


def checkov_clean(project: Path, configuration: Path) -> None:
    if not (project / configuration).is_file():
        return
    checkov = static_checks.require_tool("checkov", "scripts/install-linters .venv/bin")
    arguments = ["--config-file", str(configuration)]
    code, output = run_checkov(Path(checkov), arguments, project)
    assert code == 0, f"checkov {' '.join(arguments)} failed:\n{output}"
