"""Terraform through the CLI configuration of `scripts/services` (offline, from the machine's
provider mirror), and the Prometheus tools it installs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.service_env import required_env

pytestmark = pytest.mark.services

AWS_ONLY = """\
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}
"""


def test_terraform_init_installs_the_aws_provider_offline(tmp_path: Path) -> None:
    config = required_env("TF_CLI_CONFIG_FILE")
    (tmp_path / "main.tf").write_text(AWS_ONLY, encoding="utf-8")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": config, "CHECKPOINT_DISABLE": "1"}
    env.pop("TF_PLUGIN_CACHE_DIR", None)
    done = subprocess.run(
        ["terraform", "init", "-input=false", "-no-color"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    installed = tmp_path / ".terraform/providers/registry.terraform.io/hashicorp/aws"
    assert any(installed.iterdir()), f"no provider under {installed}"


def test_terraform_refuses_providers_from_anywhere_else(tmp_path: Path) -> None:
    # Only hashicorp/* comes from the mirror, and nothing else from the network.
    (tmp_path / "main.tf").write_text(
        AWS_ONLY.replace("hashicorp/aws", "integrations/github"), encoding="utf-8"
    )
    env = {**os.environ, "TF_CLI_CONFIG_FILE": required_env("TF_CLI_CONFIG_FILE")}
    done = subprocess.run(
        ["terraform", "init", "-input=false", "-no-color"],
        cwd=tmp_path,
        env={**env, "CHECKPOINT_DISABLE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode != 0
    assert "integrations/github" in done.stdout + done.stderr


def test_promtool_checks_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "groups:\n- name: g\n  rules:\n  - alert: Up\n    expr: up == 0\n    for: 1m\n",
        encoding="utf-8",
    )
    check = [required_env("PROMTOOL_BIN"), "check", "rules", str(rules)]
    good = subprocess.run(check, capture_output=True, check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    rules.write_text("groups:\n- name: g\n  rules:\n  - alert: Up\n    expr: up ==\n", "utf-8")
    bad = subprocess.run(check, capture_output=True, check=False)
    assert bad.returncode != 0


def test_prometheus_runs() -> None:
    done = subprocess.run(
        [required_env("PROMETHEUS_BIN"), "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "prometheus" in (done.stdout + done.stderr).lower()
