"""Terraform checks of one rendered project: `terraform plan` against moto (an AWS API emulator
on loopback), which validates the configuration first and checks the plan's promises with
test-only preconditions (``PROMISES``), and the refusal of production without a certificate.

Each check is a function of the rendered project folder and reads only the files it is keyed
on (plus this module, the terraform binary, its CLI configuration and, for plans, the
emulator), so identical Terraform across combinations is checked once; the plan is keyed on
its scratch copy after `init` (``planned_state``), so a lock file that init would have written
anyway is no new input. Terraform runs in a scratch copy holding exactly those files:
`.terraform/`, the lock file, state, the emulator's override and the promises never land in the
project, and a file Terraform would read without it being listed is missing there, which fails
the check instead of escaping its reuse key. Variable files Terraform does not load itself
(`environments/*.tfvars`, passed with `-var-file` by the release workflow) are left out unless
a `.tf` file names them.
Providers come from the CLI configuration that `scripts/services` writes (`TF_CLI_CONFIG_FILE`:
the machine's provider mirror, unpacked, so `terraform init` links the provider instead of
copying it), and `init` runs once per set of provider requirements in a process
(``terraform_init``). Every other command attaches to one provider process per test process
(``terraform_provider``) instead of starting its own.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import hcl2

from tests.matrix.content import files_under, state_of
from tests.matrix.terraform_init import DATA_DIR, LOCK_FILE, reuse_or_init
from tests.matrix.terraform_provider import REATTACH_VARIABLE, attached

DEPLOY_DIR = Path("deploy")
TERRAFORM_DIR = DEPLOY_DIR / "terraform"
ONLY_PROVIDER = "hashicorp/aws"
# What the plans are made with: an image tag, and a certificate (production requires one; the
# emulator does not check it at plan time).
PLAN_VARIABLES = {
    "image_tag": "matrix",
    "environment": "production",
    "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-matrix",
}
# The AWS APIs the generated Terraform calls; each is pointed at the emulator.
EMULATED_SERVICES = (
    "acm", "appautoscaling", "cloudwatch", "ec2", "ecr", "ecs", "elasticache", "elbv2", "iam",
    "kms", "logs", "rds", "s3", "secretsmanager", "sts", "wafv2",
)  # fmt: skip
OVERRIDE_FILE = "moto_override.tf"
DOCUMENTATION = frozenset({".md"})
"""Suffixes of files in the Terraform folder that Terraform never reads (left out of the copy)."""
VARIABLE_FILES = (".tfvars", ".tfvars.json")
LOADED_VARIABLE_FILES = re.compile(r"^(terraform\.tfvars|.*\.auto\.tfvars)(\.json)?$")
"""The variable files Terraform loads on its own (from the folder itself, not below it); any
other is read only through `-var-file`, which the checks never pass, or a function naming it."""
BESIDE = re.compile(r"\$\{path\.module\}/(\.\./[^\"$}]+)")
"""A file the configuration names next to its folder, e.g. `${path.module}/../observability/…`."""
PRODUCTION_NEEDS_A_CERTIFICATE = 'environment = "production" needs certificate_arn'


def terraform_binary() -> str:
    found = shutil.which("terraform")
    assert found, "terraform is not installed (the machine image ships it in /usr/local/bin)"
    return found


GO_GARBAGE_COLLECTION = "400"
"""GOGC for Terraform and its provider: the AWS provider builds its schema of thousands of
resources in every process it starts (three per plan when Terraform starts its own), and with
the collector running at a quarter of Go's default frequency a plan takes about a quarter less
CPU (14.7 against 10.9 s, interleaved runs of one configuration, measured before the shared
provider) for about 130 MB more memory at its peak (770 against 635 MB). The shared provider
(``terraform_provider``) gets the same setting from this environment."""


def terraform_env() -> dict[str, str]:
    """The caller's environment (TF_CLI_CONFIG_FILE names the provider mirror), non-interactive,
    with the collector setting above unless the caller chose one."""
    return {
        "GOGC": GO_GARBAGE_COLLECTION,
        **os.environ,
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
    }


def terraform_inputs(project: Path) -> tuple[str, ...]:
    """What Terraform can read when it plans the project (relative to it): every file of the
    Terraform folder but its documentation, and each file a `.tf` file names beside the folder
    (the alert rules). The checks run on a copy of exactly these (``terraform_copy``)."""
    folder = project / TERRAFORM_DIR
    found = set(files_under(project, str(TERRAFORM_DIR)))
    found = {path for path in found if Path(path).suffix not in DOCUMENTATION}
    configuration = {path: path.read_text("utf-8") for path in sorted(folder.rglob("*.tf"))}
    named = "".join([*configuration.values(), *(p.read_text() for p in folder.rglob("*.tf.json"))])
    found -= _unread_variable_files(found, named)
    for path, text in configuration.items():
        for match in BESIDE.finditer(text):
            beside = posixpath.normpath(posixpath.join(str(TERRAFORM_DIR), match.group(1)))
            assert not beside.startswith(".."), f"{path.name} reads {beside}, outside the project"
            found.add(beside)
    return tuple(sorted(found))


def _unread_variable_files(found: set[str], configuration: str) -> set[str]:
    """The variable files of ``found`` Terraform does not load itself (`environments/*.tfvars`,
    which the release workflow passes with `-var-file`) and no `.tf` file names: a function
    naming the file (`file`, `templatefile`) has its name in the configuration, and one that
    globs (`fileset`) keeps them all."""
    if "fileset(" in configuration:
        return set()
    unread = set()
    for relative in found:
        path = Path(relative)
        if not path.name.endswith(VARIABLE_FILES) or path.name in configuration:
            continue
        if path.parent == TERRAFORM_DIR and LOADED_VARIABLE_FILES.match(path.name):
            continue
        unread.add(relative)
    return unread


@contextmanager
def terraform_copy(project: Path) -> Iterator[Path]:
    """A scratch copy of exactly ``terraform_inputs`` (a listed file that is absent stays
    absent), removed afterwards; yields its Terraform folder."""
    with tempfile.TemporaryDirectory(prefix="terraform-check-") as scratch:
        (Path(scratch) / TERRAFORM_DIR).mkdir(parents=True)
        for relative in terraform_inputs(project):
            source, copy = project / relative, Path(scratch) / relative
            if source.is_file():
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, copy)
        yield Path(scratch) / TERRAFORM_DIR


def run_terraform(folder: Path, *arguments: str) -> tuple[int, str]:
    """Run terraform in ``folder``: its exit code and output. Every command but `init` attaches
    to the process's shared provider when the folder can (``terraform_provider``); one that
    fails because that provider died under it runs again on its own."""
    environment = terraform_env()
    if arguments[:1] == ("init",):
        return _run(folder, arguments, environment)
    with attached(folder, environment) as provider:
        if provider is None:
            return _run(folder, arguments, environment)
        code, output = _run(
            folder, arguments, {**environment, REATTACH_VARIABLE: provider.reattach}
        )
        if code == 0 or provider.alive():
            return code, output
    return _run(folder, arguments, environment)


def _run(folder: Path, arguments: tuple[str, ...], environment: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run(
        [terraform_binary(), *arguments, "-no-color"],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, f"{done.stdout}\n{done.stderr}"


def terraform(folder: Path, *arguments: str, expect_success: bool = True) -> str:
    code, output = run_terraform(folder, *arguments)
    if expect_success:
        assert code == 0, f"terraform {' '.join(arguments)} failed:\n{output}"
    else:
        assert code != 0, f"terraform {' '.join(arguments)} succeeded:\n{output}"
    return output


def only_the_aws_provider(project: Path) -> None:
    """Every required provider is hashicorp/aws: the one this machine (and CI) can install."""
    sources: set[str] = set()
    for path in sorted((project / TERRAFORM_DIR).glob("*.tf")):
        text = path.read_text(encoding="utf-8")
        if "required_providers" not in text:  # a block's name is spelled out: nothing to parse
            continue
        for block in hcl2.loads(text).get("terraform", []):
            for required in block.get("required_providers", []):
                sources.update(
                    str(spec.get("source", name)).strip('"')
                    for name, spec in required.items()
                    if isinstance(spec, dict)
                )
    assert sources == {ONLY_PROVIDER}, f"providers other than {ONLY_PROVIDER}: {sorted(sources)}"


def emulator_override(endpoint: str) -> str:
    """A test-only override: local state, and every AWS API at the emulator with its test keys."""
    endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in EMULATED_SERVICES)
    return f"""\
terraform {{
  backend "local" {{}}
}}

provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
"""


def emulator_endpoint() -> str:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    assert endpoint, (
        "AWS_ENDPOINT_URL is not set: start moto with `scripts/services up moto` and "
        '`eval "$(scripts/services env)"` (scripts/test does both)'
    )
    return endpoint


@contextmanager
def emulated(project: Path) -> Iterator[Path]:
    """A copy of the project's Terraform, initialised against the emulator."""
    with _prepared(project, emulator_endpoint()) as folder:
        yield folder


@contextmanager
def _prepared(project: Path, endpoint: str) -> Iterator[Path]:
    with terraform_copy(project) as folder:
        (folder / OVERRIDE_FILE).write_text(emulator_override(endpoint), "utf-8")
        reuse_or_init(folder, cli_configuration(), _init)
        yield folder


PLACEHOLDER_ENDPOINT = "http://127.0.0.1:1"
"""The emulator's address in the override when none is set (``planned_state`` for a projection
without the services): it is in the init key, never in the plan key."""


def planned_state(project: Path) -> list[object]:
    """What the plan starts from, for its key: the files it copies (``terraform_inputs``) as
    they are in the scratch copy after `terraform init` (whose result is reused per set of
    requirements: ``terraform_init``), so the lock file as init leaves it, and the data folder
    init made (the backend's record, the links to the mirror's providers). A lock file that init
    accepts and leaves byte-identical to the one it writes where there is none (`cicd` commits
    exactly that one) is then the same plan input as no lock file. A lock file init rejects
    keys on the project's own files and the failure, so the check runs and fails."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip() or PLACEHOLDER_ENDPOINT
    inputs = terraform_inputs(project)
    try:
        with _prepared(project, endpoint) as folder:
            root = folder.parents[1]
            made = (str(TERRAFORM_DIR / LOCK_FILE), str(TERRAFORM_DIR / DATA_DIR))
            return state_of(root, [*inputs, *made])
    except AssertionError as error:
        return ["init failed", str(error), state_of(project, inputs)]


def _init(folder: Path) -> None:
    terraform(folder, "init", "-input=false")


def cli_configuration() -> Path | None:
    """The CLI configuration naming the provider mirror (TF_CLI_CONFIG_FILE), when set."""
    config = os.environ.get("TF_CLI_CONFIG_FILE")
    return Path(config) if config else None


def plan_arguments(variables: dict[str, str]) -> list[str]:
    return [f"-var={name}={value}" for name, value in variables.items()]


def plan_or_explain(folder: Path, *arguments: str) -> None:
    """`terraform plan -out=plan.out`, which validates the configuration before it plans (one
    init, one copy, one provider schema load for both). When it fails, `terraform validate`
    says whether the configuration itself is invalid, so the two failures read differently."""
    code, output = run_terraform(folder, "plan", "-input=false", "-out=plan.out", *arguments)
    if code == 0:
        return
    code, invalid = run_terraform(folder, "validate")
    if code != 0:
        raise AssertionError(f"terraform validate failed:\n{invalid}")
    raise AssertionError(f"terraform plan failed (the configuration is valid):\n{output}")


def terraform_plan(project: Path) -> None:
    """`terraform plan` against the emulator, as production (validating the configuration
    first), with the promises of ``PROMISES`` (port 80 redirects to HTTPS, the WAF refuses exactly
    the bodies over the limit) as preconditions: a broken one stops the plan."""
    only_the_aws_provider(project)
    with emulated(project) as folder:
        shutil.copy2(PROMISES, folder / PROMISES_FILE)
        plan_or_explain(folder, *plan_arguments(PLAN_VARIABLES))


PROMISES_FILE = "matrix_promises.tf"
PROMISES = Path(__file__).with_name(PROMISES_FILE)
"""Test-only preconditions (the matrix writes them into its scratch copy, never into a project)."""
REFUSAL_FILES = ("alb.tf", "locals.tf", "variables.tf")
"""Where the listener, its precondition and the certificate variable are declared."""


def refusal_inputs(project: Path) -> tuple[str, ...]:
    """The files the refusal is made in, and any override file (`*_override.tf` can change any
    block)."""
    folder = project / TERRAFORM_DIR
    overrides = [path.name for path in folder.glob("*override.tf")]
    return tuple(str(TERRAFORM_DIR / name) for name in sorted({*REFUSAL_FILES, *overrides}))


def production_requires_a_certificate(project: Path) -> None:
    """Planning production without a certificate stops with the precondition's message.

    Targeted at the HTTP listener: its precondition is what refuses, and the smaller graph
    (the listener and what it depends on) plans in a fraction of the time.
    """
    without_certificate = {**PLAN_VARIABLES, "certificate_arn": ""}
    with emulated(project) as folder:
        refused = terraform(
            folder,
            "plan",
            "-input=false",
            "-target=aws_lb_listener.http",
            *plan_arguments(without_certificate),
            expect_success=False,
        )
    assert PRODUCTION_NEEDS_A_CERTIFICATE in refused, refused
