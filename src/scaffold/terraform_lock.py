"""The Terraform dependency lock of a new project: `.terraform.lock.hcl`, made by Terraform.

Like `uv.lock`, it is derived (from the provider constraints of `deploy/terraform/`), so it is
made in the rendered project and committed with `uv.lock` after the pristine generation.
`terraform init -backend=false` writes it from wherever the user's Terraform installs providers
(the registry, or the mirror that `TF_CLI_CONFIG_FILE` names: then only this platform's hash is
recorded, as Terraform itself would). The `.terraform/` folder that init leaves is removed.

Without Terraform, or when init fails (no network and no mirror), the project is still written:
the caller reports one line, and the user runs `terraform init` later.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from scaffold.lock import LockOutcome, reason

TERRAFORM_DIR = Path("deploy/terraform")
LOCK_FILE = TERRAFORM_DIR / ".terraform.lock.hcl"
INIT_TIMEOUT_SECONDS = 300
INSTALL_URL = "https://developer.hashicorp.com/terraform/install"
QUIET_TERRAFORM = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}


def lock_providers(project: Path) -> LockOutcome | None:
    """`terraform init -backend=false` in the project's Terraform; None when it has none."""
    folder = project / TERRAFORM_DIR
    if not folder.is_dir():
        return None
    terraform = shutil.which("terraform")
    if terraform is None:
        return LockOutcome(False, f"terraform is not installed ({INSTALL_URL})")
    environment = {**os.environ, **QUIET_TERRAFORM}
    try:
        done = subprocess.run(
            [terraform, "init", "-backend=false", "-input=false", "-no-color"],
            cwd=folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=INIT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return LockOutcome(False, f"terraform init took longer than {INIT_TIMEOUT_SECONDS} s")
    finally:
        shutil.rmtree(folder / ".terraform", ignore_errors=True)
    if done.returncode != 0 or not (project / LOCK_FILE).is_file():
        return LockOutcome(False, f"terraform init failed: {reason(done.stderr or done.stdout)}")
    providers = sorted(
        line.split('"')[1]
        for line in (project / LOCK_FILE).read_text().splitlines()
        if line.startswith('provider "')
    )
    return LockOutcome(True, f"providers {', '.join(providers)}")
