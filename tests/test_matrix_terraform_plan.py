"""The matrix's Terraform plan validates the configuration itself (no separate `terraform
validate` runs when it passes), and its two ways of failing read differently."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.selection import Selection
from tests.matrix.terraform_checks import (
    TERRAFORM_DIR,
    only_the_aws_provider,
    plan_or_explain,
    terraform,
    terraform_plan,
)
from tests.matrix.workspace import render

# Built-in resources only: no provider to install, so these plans run in a second.
INVALID = 'resource "terraform_data" "x" {\n  input = var.undeclared\n}\n'
VALID_BUT_UNPLANNABLE = (
    'variable "needed" {\n  type = string\n}\n\n'
    'resource "terraform_data" "x" {\n  input = var.needed\n}\n'
)
PLANNABLE = 'resource "terraform_data" "x" {\n  input = "fine"\n}\n'


def initialised(folder: Path, text: str) -> Path:
    (folder / "main.tf").write_text(text, encoding="utf-8")
    terraform(folder, "init", "-input=false", "-backend=false")
    return folder


def test_an_invalid_configuration_fails_as_invalid(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match=r"^terraform validate failed:") as failed:
        plan_or_explain(initialised(tmp_path, INVALID))
    assert "undeclared" in str(failed.value)


def test_a_valid_configuration_that_cannot_be_planned_fails_as_a_plan(tmp_path: Path) -> None:
    with pytest.raises(
        AssertionError, match=r"^terraform plan failed \(the configuration is valid"
    ):
        plan_or_explain(initialised(tmp_path, VALID_BUT_UNPLANNABLE))


def test_a_plannable_configuration_leaves_its_plan(tmp_path: Path) -> None:
    folder = initialised(tmp_path, PLANNABLE)
    plan_or_explain(folder)
    assert (folder / "plan.out").is_file()


def declares(provider: str) -> str:
    name = provider.split("/")[1]
    block = f'    {name} = {{\n      source = "{provider}"\n    }}\n'
    return f"terraform {{\n  required_providers {{\n{block}  }}\n}}\n"


def test_a_second_provider_is_refused_wherever_it_is_declared(tmp_path: Path) -> None:
    folder = tmp_path / TERRAFORM_DIR
    folder.mkdir(parents=True)
    (folder / "versions.tf").write_text(declares("hashicorp/aws"), encoding="utf-8")
    (folder / "main.tf").write_text(PLANNABLE, encoding="utf-8")
    only_the_aws_provider(tmp_path)
    (folder / "zz_late.tf").write_text(declares("hashicorp/random"), encoding="utf-8")
    with pytest.raises(AssertionError, match="hashicorp/random"):
        only_the_aws_provider(tmp_path)


def test_a_broken_promise_stops_the_plan(tmp_path: Path) -> None:
    """The preconditions the matrix adds to every plan catch a listener that redirects to
    plain HTTP and a WAF pattern that also refuses a body under the limit, in one plan, right
    after the sound project's plan (whose WAF plan the provider cache keeps: the broken one is
    another request)."""
    project = render(Selection(capabilities=frozenset(), variants={}), tmp_path, None)
    terraform_plan(project)
    folder = project / TERRAFORM_DIR
    alb, waf = folder / "alb.tf", folder / "waf.tf"
    alb.write_text(alb.read_text().replace('protocol    = "HTTPS"', 'protocol    = "HTTP"'))
    pattern = "${local.larger_than_body_limit}"
    assert pattern in waf.read_text()
    waf.write_text(waf.read_text().replace(pattern, pattern + "|1"))
    with pytest.raises(AssertionError, match="the configuration is valid") as failed:
        terraform_plan(project)
    assert "port 80 does not redirect to HTTPS" in str(failed.value)
    assert "is wrong for Content-Length 1, 001" in str(failed.value)
