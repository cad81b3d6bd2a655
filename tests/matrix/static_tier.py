"""Tier 1 for one combination: every check runs (or is reused) and reports on its own.

A check that reads a known, small set of files is keyed: its result is reused for another
combination whose copies of those files are byte-identical (same names in its folders too), with
the same tool binary and the same check code. The declared inputs include the tool's own
configuration files, present or not (a `.hadolint.yaml` appearing changes the key), and the
linters a tool calls (actionlint runs shellcheck when it is installed).
mypy is keyed on the folders it checks, its configuration files and the shared environment
(mypy itself, pydantic's plugin, the stubs), and otherwise runs with its own cache; ruff reads
every Python file anywhere in the tree and runs every time (with its own cache); the per-file
checks (parse, compile) remember verdicts per file content.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.matrix import (
    checkov_checks,
    checkov_runner,
    mypy_runner,
    terraform_init,
    terraform_provider,
    warm_server,
)
from tests.matrix import observability_checks as observability
from tests.matrix import pipeline_checks as pipeline
from tests.matrix import static_checks as checks
from tests.matrix import terraform_checks as terraform
from tests.matrix.content import digest, file_digest, state_of, tool_digest
from tests.matrix.cpu_clock import cpu_seconds
from tests.matrix.reuse import Result, Store
from tests.support import nginx

CHECK_MODULES = (checks, terraform, pipeline, observability, nginx, checkov_checks)
CHECKS_VARIABLE = "SCAFFOLD_MATRIX_CHECKS"
CODE = [Path(str(module.__file__)) for module in CHECK_MODULES] + [Path(__file__)]
CODE += [terraform.PROMISES, Path(str(terraform_init.__file__))]
CODE += [Path(str(terraform_provider.__file__))]
CODE += [Path(str(checkov_runner.__file__)), checkov_runner.SERVER]
CODE += [Path(str(mypy_runner.__file__)), mypy_runner.SERVER, Path(str(warm_server.__file__))]
CODE += [checkov_runner.SERVER.with_name("forked_runs.py")]


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[Path, checks.Tools], None]
    inputs: tuple[str, ...] = ()
    """Paths (relative to the project) the check reads; empty, with no ``found_inputs``: not
    keyed, always runs."""
    tools: tuple[str, ...] = ()
    """Executables whose identity is part of the key (absent ones count as absent)."""
    outside: tuple[str, ...] = ()
    """Absolute paths outside the project the tool reads (global configuration)."""
    environment: bool = False
    """Runs in the shared environment (its packages, e.g. mypy and its plugins, are inputs)."""
    found_inputs: Callable[[Path], tuple[str, ...]] | None = None
    """For a check whose inputs depend on the project (Terraform reads the files its
    configuration names): a function listing them; the check must read nothing else."""
    prepared: Callable[[Path], list[object]] | None = None
    """For a check that runs on what it prepares from its inputs (Terraform's folder after
    `init`): the state of that, keyed instead of the inputs' state in the project; two projects
    it prepares alike are one run."""
    covers: tuple[str, ...] = ()
    """Tests of the generated project (pytest node ids) that make the same assertions on the
    same inputs as this check (with the other checks that list them): once all of those
    passed, tier 2 does not run them again."""

    @property
    def keyed(self) -> bool:
        return bool(self.inputs) or self.found_inputs is not None or self.prepared is not None

    def inputs_in(self, project: Path) -> tuple[str, ...]:
        found = self.found_inputs(project) if self.found_inputs else ()
        return tuple(sorted({*self.inputs, *found}))


def _hadolint_global() -> tuple[str, ...]:
    config = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return (str(config / "hadolint.yaml"), str(Path.home() / ".hadolint.yaml"))


def _terraform_outside() -> tuple[str, ...]:
    """The CLI configuration naming the provider mirror (and so the provider's version), and
    the provider cache in front of the shared provider (its answers, the schema it filters)."""
    config = terraform.cli_configuration()
    cache = os.environ.get(terraform_provider.CACHE_VARIABLE)
    return tuple(str(path) for path in (config, cache) if path)


def _terraform_checks() -> list[Check]:
    """A plan against the AWS emulator (which validates the configuration first and checks
    the plan's promises), and the production refusal.

    The plan is keyed on exactly the files it copies (``terraform_inputs``). The refusal is the
    precondition on the HTTP listener and the certificate variable; a capability's files can
    only break it by breaking the whole configuration, which the plan reports, or through an
    override file. So it is keyed on the files that declare those and on override files, and
    runs once per version of them.
    """
    tool, outside = ("terraform",), _terraform_outside()
    return [
        Check("terraform plan", lambda project, _: terraform.terraform_plan(project), (), tool,
              outside, found_inputs=terraform.terraform_inputs, prepared=terraform.planned_state),
        Check("production needs TLS",
              lambda project, _: terraform.production_requires_a_certificate(project), (), tool,
              outside, found_inputs=terraform.refusal_inputs),
    ]  # fmt: skip


def _pipeline_plan(project: Path) -> None:
    pipeline.pipeline_terraform(project)  # the plan's promises are checked inside


def _promtool(name: str, files: tuple[Path, Path]) -> Check:
    def check(project: Path, _: checks.Tools) -> None:
        observability.alert_rules_valid(project, *files)

    return Check(f"promtool ({name})", check, tuple(map(str, files)), ("promtool",),
                 covers=observability.PROMTOOL_TESTS)  # fmt: skip


def _checkov(configuration: Path) -> Check:
    """Keyed on the configuration's folder (checkov reads every file under it), one check per
    folder: the pipeline's is the same in every combination with `cicd`, so it runs once."""

    def check(project: Path, _: checks.Tools) -> None:
        checkov_checks.checkov_clean(project, configuration)

    folder = configuration.parent
    return Check(f"checkov ({folder.name})", check, (str(folder),), ("checkov",),
                 checkov_checks.home_configuration())  # fmt: skip


CHECKS = (
    Check("leftovers", checks.no_template_leftovers),
    Check("parse", checks.structured_files_parse),
    Check("compile", checks.python_compiles),
    Check("ruff", checks.ruff_clean),
    Check("mypy", checks.mypy_clean,
          ("src", "tests", "migrations", "pyproject.toml", "mypy.ini", ".mypy.ini", "setup.cfg"),
          environment=True),
    Check("actionlint", checks.workflows_lint, (".github",),
          ("actionlint", "shellcheck", "pyflakes")),
    Check("hadolint", checks.dockerfile_lint, ("Dockerfile", ".hadolint.yaml", ".hadolint.yml"),
          ("hadolint",), _hadolint_global()),
    Check("terraform fmt", checks.terraform_formatted, ("deploy/terraform",), ("terraform",)),
    Check("nginx -t", checks.nginx_config_valid, (str(nginx.EDGE_DIR),), ("nginx",)),
    *_terraform_checks(),
    Check("zizmor", lambda project, _: pipeline.release_workflow_audited(project),
          (str(pipeline.RELEASE_WORKFLOW),), ("zizmor",)),
    _promtool("service rules", observability.SERVICE_RULES),
    _promtool("capability rules", observability.CAPABILITY_RULES),
    Check("pipeline terraform", lambda project, _: _pipeline_plan(project),
          (str(pipeline.PIPELINE_DIR),), ("terraform",), _terraform_outside()),
    *map(_checkov, checkov_checks.CONFIGURATIONS),
)  # fmt: skip


@cache
def code_digest() -> str:
    return digest([file_digest(path) for path in CODE])


def check_key(check: Check, project: Path, python: Path) -> str:
    """Everything the check's verdict depends on."""
    tools = [[name, tool_digest(found) if (found := _which(name)) else "absent"]
             for name in check.tools]  # fmt: skip
    outside = [[path, outside_state(path)] for path in check.outside]
    environment = environment_digest(python) if check.environment else None
    if check.prepared is not None:
        inputs = check.prepared(project)
    else:
        inputs = state_of(project, check.inputs_in(project))
    return digest(check.name, code_digest(), tools, outside, environment, inputs)


_outside_files: dict[tuple[str, int, int, int], list[object]] = {}


def outside_state(path: str) -> list[object]:
    """The state of a path outside the project (``Check.outside``): a file's digest is kept per
    process for its path, inode, size and modification time (the provider cache, a 15 MB
    binary, is in three checks' keys in every combination), anything else is read each time."""
    try:
        info = os.stat(path)
    except OSError:
        info = None
    if info is None or not stat.S_ISREG(info.st_mode):
        return state_of(Path("/"), [path.lstrip("/")])
    seen = (path, info.st_ino, info.st_size, info.st_mtime_ns)
    if seen not in _outside_files:
        _outside_files[seen] = state_of(Path("/"), [path.lstrip("/")])
    return _outside_files[seen]


@cache
def environment_digest(python: Path) -> str:
    """The shared environment: its requirement list and interpreter (see shared_env.py)."""
    venv = python.parent.parent
    return digest([file_digest(venv / name) for name in ("requirements.json", "pyvenv.cfg")])


def _which(name: str) -> str | None:
    if name == "nginx":
        found: str | None = nginx.nginx_binary()
        return found
    return shutil.which(name)


def static_tier(
    project: Path, tools: checks.Tools, store: Store, label: str
) -> dict[str, dict[str, object]]:
    """Run every check; return each one's outcome, seconds and where a reused result came from."""
    return {
        check.name: check_outcome(check, project, tools, store, label) for check in chosen_checks()
    }


def chosen_checks() -> tuple[Check, ...]:
    """Every check, or those SCAFFOLD_MATRIX_CHECKS names (comma-separated): a test of the
    harness that aims at some checks need not pay for the others (Terraform plans above all)."""
    names = [name for name in os.environ.get(CHECKS_VARIABLE, "").split(",") if name]
    unknown = sorted(set(names) - {check.name for check in CHECKS})
    assert not unknown, f"{CHECKS_VARIABLE}: no such tier 1 checks: {unknown}"
    return tuple(check for check in CHECKS if not names or check.name in names)


def check_outcome(
    check: Check, project: Path, tools: checks.Tools, store: Store, label: str
) -> dict[str, object]:
    """One check's result for this project: reused when keyed and already known, else run."""
    started, cpu_started = time.monotonic(), cpu_seconds()
    key = check_key(check, project, tools.python) if check.keyed else None
    found = store.get("static", key) if key else None
    reused_from = found.source if found else None
    if found is None:
        found = _run(check, project, tools, label, started)
        if key:
            store.put("static", key, found)
    return {
        "outcome": found.outcome,
        "seconds": round(time.monotonic() - started, 2),
        "cpu_seconds": round(cpu_seconds() - cpu_started, 2),
        "keyed": key is not None,
        "reused_from": reused_from,
        "source_seconds": found.seconds,
        "message": found.message[:4000],
    }


def covered_tests(results: dict[str, dict[str, object]]) -> tuple[str, ...]:
    """The project's tests tier 1 already made: each one's covering checks all passed here."""
    passed = {name for name, result in results.items() if result["outcome"] == "passed"}
    tests = {test for check in CHECKS for test in check.covers}
    return tuple(sorted(
        test for test in tests if {c.name for c in CHECKS if test in c.covers} <= passed
    ))  # fmt: skip


def failures(results: dict[str, dict[str, object]]) -> str:
    """One paragraph per failed check, or an empty string."""
    return "\n".join(
        f"[{name}] {r['message']}" for name, r in results.items() if r["outcome"] != "passed"
    )


def _run(check: Check, project: Path, tools: checks.Tools, label: str, started: float) -> Result:
    try:
        check.run(project, tools)
    except AssertionError as error:
        return Result("failed", str(error), label, round(time.monotonic() - started, 2))
    return Result("passed", "", label, round(time.monotonic() - started, 2))
