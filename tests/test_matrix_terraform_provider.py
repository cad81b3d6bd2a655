"""The matrix's Terraform commands attach to one shared AWS provider per process: Terraform then
starts no provider of its own, a broken configuration still fails, each plan is made with its
own provider configuration, a dead provider is replaced, and none outlives its process."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.matrix import terraform_provider
from tests.matrix.terraform_checks import (
    OVERRIDE_FILE,
    emulator_endpoint,
    emulator_override,
    plan_or_explain,
    run_terraform,
    terraform,
)
from tests.support.processes import gone, outlived_by

ROOT = Path(__file__).resolve().parents[1]
STARTS_A_PROVIDER = "starting plugin"
"""What Terraform logs (TF_LOG=debug) when it starts a provider process itself."""


def aws_provider(region: str, tag: str) -> str:
    """The AWS provider, configured with ``region`` and default tags naming ``tag``."""
    return f"""\
terraform {{
  required_providers {{
    aws = {{
      source = "hashicorp/aws"
    }}
  }}
}}

provider "aws" {{
  region = "{region}"
  default_tags {{
    tags = {{ configuration = "{tag}" }}
  }}
}}
"""


def configuration(region: str, tag: str) -> str:
    """A bucket and the region, planned with the provider configuration's region and default
    tags: what the plan shows comes from that command's own provider configuration."""
    return (
        aws_provider(region, tag)
        + f"""
data "aws_region" "current" {{}}

resource "aws_s3_bucket" "this" {{
  bucket = "matrix-{tag}"
}}

output "region" {{
  value = data.aws_region.current.name
}}
"""
    )


def emulated_folder(folder: Path, text: str) -> Path:
    """``text`` as main.tf with the emulator's override (which merges into its provider
    block), initialised."""
    return initialised_folder(folder, text, emulator_override(emulator_endpoint()))


def initialised_folder(folder: Path, text: str, override: str | None = None) -> Path:
    """``text`` as main.tf (and ``override`` as the override file), initialised."""
    folder.mkdir()
    (folder / "main.tf").write_text(text, encoding="utf-8")
    if override is not None:
        (folder / OVERRIDE_FILE).write_text(override, "utf-8")
    terraform(folder, "init", "-input=false")
    return folder


def planned(folder: Path) -> tuple[str, dict[str, str]]:
    """The region the plan read and the bucket's planned tags."""
    plan_or_explain(folder)
    plan = json.loads(terraform(folder, "show", "-json", "plan.out").strip())
    (bucket,) = plan["planned_values"]["root_module"]["resources"]
    return plan["planned_values"]["outputs"]["region"]["value"], bucket["values"]["tags_all"]


def provider_pid() -> int:
    provider = terraform_provider.running()
    assert provider is not None and provider.alive()
    return provider.provider_pid()


@pytest.fixture(autouse=True)
def shared_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(terraform_provider.SHARED_PROVIDER_VARIABLE, "1")
    yield
    terraform_provider.stop()


def test_commands_attach_and_terraform_starts_no_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = emulated_folder(tmp_path / "a", configuration("us-east-1", "a"))
    monkeypatch.setenv("TF_LOG", "debug")
    code, output = run_terraform(folder, "validate")
    assert code == 0, output
    assert STARTS_A_PROVIDER not in output
    attached_to = provider_pid()
    monkeypatch.setenv(terraform_provider.SHARED_PROVIDER_VARIABLE, "0")
    code, output = run_terraform(folder, "validate")
    assert code == 0, output
    assert STARTS_A_PROVIDER in output
    assert provider_pid() == attached_to


def test_each_plan_is_made_with_its_own_provider_configuration(tmp_path: Path) -> None:
    first = emulated_folder(tmp_path / "a", configuration("us-east-1", "a"))
    second = emulated_folder(tmp_path / "b", configuration("eu-west-1", "b"))
    assert planned(first) == ("us-east-1", {"configuration": "a"})
    attached_to = provider_pid()
    assert planned(second) == ("eu-west-1", {"configuration": "b"})
    assert planned(first) == ("us-east-1", {"configuration": "a"})
    assert provider_pid() == attached_to


def test_a_broken_configuration_fails_while_attached(tmp_path: Path) -> None:
    sound = emulated_folder(tmp_path / "sound", configuration("us-east-1", "a"))
    broken = emulated_folder(
        tmp_path / "broken",
        configuration("us-east-1", "b").replace('bucket = "matrix-b"', "bucket = var.undeclared"),
    )
    plan_or_explain(sound)
    attached_to = provider_pid()
    with pytest.raises(AssertionError, match=r"^terraform validate failed:") as failed:
        plan_or_explain(broken)
    assert "undeclared" in str(failed.value)
    assert provider_pid() == attached_to


def test_the_cache_answers_the_same_question_again_and_only_that(tmp_path: Path) -> None:
    """Behind the provider cache, a repeated schema request and configuration validation are
    answered from memory; another configuration is validated by the provider itself, and a
    configuration it rejects stays rejected when asked again."""
    assert os.environ.get(terraform_provider.CACHE_VARIABLE), (
        "no provider cache: run scripts/services up terraform, then eval its env"
    )
    # Validation talks to no API, so these need no emulator (whose override would replace the
    # provider block's nested blocks).
    sound = initialised_folder(tmp_path / "sound", configuration("us-east-1", "a"))
    rejected = initialised_folder(
        tmp_path / "rejected",
        configuration("us-east-1", "b").replace(
            'region = "us-east-1"',
            'region = "us-east-1"\n  assume_role {\n    duration = "bogus"\n  }',
        ),
    )
    for _ in range(2):
        code, output = run_terraform(sound, "validate")
        assert code == 0, output
        code, output = run_terraform(rejected, "validate")
        assert code != 0 and "cannot be parsed as a duration" in output, output
    provider = terraform_provider.running()
    assert provider is not None
    counts = provider.cache_counts()
    assert counts["/tfplugin5.Provider/GetSchema"]["ran"] == 1, counts
    assert counts["/tfplugin5.Provider/GetSchema"]["reused"] == 3, counts
    assert counts["/tfplugin5.Provider/PrepareProviderConfig"]["ran"] == 2, counts
    assert counts["/tfplugin5.Provider/PrepareProviderConfig"]["reused"] == 2, counts


def test_the_schema_answer_holds_the_types_of_the_folder_of_each_command(tmp_path: Path) -> None:
    """Behind the cache, Terraform gets the schemas of the types the folder declares only (one
    provider serving two folders gets each its own), and the provider's functions whole."""
    assert os.environ.get(terraform_provider.CACHE_VARIABLE), "no provider cache"
    bucket = initialised_folder(tmp_path / "bucket", configuration("us-east-1", "a"))
    queue = initialised_folder(
        tmp_path / "queue",
        configuration("us-east-1", "b").replace(
            'resource "aws_s3_bucket"', "resource aws_sqs_queue"
        ),
    )
    for folder, resource in (
        (bucket, "aws_s3_bucket"),
        (queue, "aws_sqs_queue"),
        (bucket, "aws_s3_bucket"),
    ):
        schema = json.loads(terraform(folder, "providers", "schema", "-json"))
        (aws,) = schema["provider_schemas"].values()
        assert sorted(aws["resource_schemas"]) == [resource], sorted(aws["resource_schemas"])[:5]
        # a name is kept in each map that has it (aws_s3_bucket is a data source too)
        assert set(aws["data_source_schemas"]) - {resource} == {"aws_region"}
        assert "arn_parse" in aws.get("functions", {}), sorted(aws)


def test_a_type_left_out_of_the_schema_stops_terraform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the filter to miss a type the configuration uses, Terraform refuses it: the filter
    can make a check fail, never pass."""
    assert os.environ.get(terraform_provider.CACHE_VARIABLE), "no provider cache"
    folder = initialised_folder(tmp_path / "a", configuration("us-east-1", "a"))
    monkeypatch.setattr(terraform_provider, "declared_types", lambda _: ["aws_region"])
    code, output = run_terraform(folder, "validate")
    assert code != 0 and "does not support resource type" in output, output
    monkeypatch.setattr(terraform_provider, "declared_types", lambda _: None)
    code, output = run_terraform(folder, "validate")
    assert code == 0, output


def test_the_declared_types_are_read_from_every_block_that_declares_one(tmp_path: Path) -> None:
    (tmp_path / "a.tf").write_text(
        'resource "aws_s3_bucket" "a" {}\nresource aws_sqs_queue b {}\n'
        'check "c" {\n  data "aws_region" "here" {}\n  assert {\n'
        '    condition = true\n    error_message = "x"\n  }\n}\n'
        'ephemeral "aws_secretsmanager_secret_version" "s" {}\n',
        encoding="utf-8",
    )
    assert terraform_provider.declared_types(tmp_path) == [
        "aws_region", "aws_s3_bucket", "aws_secretsmanager_secret_version", "aws_sqs_queue",
    ]  # fmt: skip
    (tmp_path / "b.tf").write_text('module "m" {\n  source = "./m"\n}\n', encoding="utf-8")
    assert terraform_provider.declared_types(tmp_path) is None
    (tmp_path / "b.tf").unlink()
    (tmp_path / "c.tf.json").write_text("{}", encoding="utf-8")
    assert terraform_provider.declared_types(tmp_path) is None


def web_acl(tag: str, rule: str, scope: str = "REGIONAL") -> str:
    """A WAF web ACL (a type of ``PURE_TYPES``) with one rule, under default tags."""
    return (
        aws_provider("us-east-1", tag)
        + f"""
resource "aws_wafv2_web_acl" "this" {{
  name  = "matrix"
  scope = "{scope}"

  default_action {{
    allow {{}}
  }}

  rule {{
    name     = "{rule}"
    priority = 1

    action {{
      block {{}}
    }}

    statement {{
      rate_based_statement {{
        limit              = 100
        aggregate_key_type = "IP"
      }}
    }}

    visibility_config {{
      cloudwatch_metrics_enabled = false
      metric_name                = "{rule}"
      sampled_requests_enabled   = false
    }}
  }}

  visibility_config {{
    cloudwatch_metrics_enabled = false
    metric_name                = "matrix"
    sampled_requests_enabled   = false
  }}
}}
"""
    )


def planned_acl(folder: Path) -> tuple[str, dict[str, str]]:
    """The web ACL's planned rule name and tags."""
    plan_or_explain(folder)
    plan = json.loads(terraform(folder, "show", "-json", "plan.out").strip())
    (acl,) = plan["planned_values"]["root_module"]["resources"]
    (rule,) = acl["values"]["rule"]
    return rule["name"], acl["values"]["tags_all"]


def plan_counts() -> dict[str, float]:
    """The cache's counts of plans of a resource (pure types only)."""
    provider = terraform_provider.running()
    assert provider is not None
    return provider.cache_counts()["/tfplugin5.Provider/PlanResourceChange"]


def test_a_pure_types_plan_is_kept_per_request_and_provider_configuration(
    tmp_path: Path,
) -> None:
    """The plan of a resource of a pure type is answered again for the same request under the
    same provider configuration; another configuration of the resource, or of the provider
    (its default tags, which the provider merges into the plan), is planned by the provider, and
    a configuration it rejects stays rejected."""
    assert os.environ.get(terraform_provider.CACHE_VARIABLE), "no provider cache"
    assert "aws_wafv2_web_acl" in terraform_provider.PURE_TYPES
    first = emulated_folder(tmp_path / "first", web_acl("a", "one"))
    same = emulated_folder(tmp_path / "same", web_acl("a", "one"))
    other_rule = emulated_folder(tmp_path / "other-rule", web_acl("a", "two"))
    other_tags = emulated_folder(tmp_path / "other-tags", web_acl("b", "one"))
    rejected = emulated_folder(tmp_path / "rejected", web_acl("a", "one", scope="NOWHERE"))
    expected = (
        (first, ("one", {"configuration": "a"}), 1, 0),
        (same, ("one", {"configuration": "a"}), 1, 1),
        (other_rule, ("two", {"configuration": "a"}), 2, 1),
        (other_tags, ("one", {"configuration": "b"}), 3, 1),
        (first, ("one", {"configuration": "a"}), 3, 2),
    )
    for folder, values, ran, reused in expected:
        assert planned_acl(folder) == values
        counts = plan_counts()
        assert (counts["ran"], counts["reused"]) == (ran, reused), counts
    for _ in range(2):
        code, output = run_terraform(rejected, "validate")
        assert code != 0 and "NOWHERE" in output, output
    provider = terraform_provider.running()
    assert provider is not None
    validations = provider.cache_counts()["/tfplugin5.Provider/ValidateResourceTypeConfig"]
    assert validations["reused"] >= 1, validations


def test_a_dead_provider_is_replaced(tmp_path: Path) -> None:
    folder = emulated_folder(tmp_path / "a", configuration("us-east-1", "a"))
    plan_or_explain(folder)
    dead = provider_pid()
    os.kill(dead, signal.SIGKILL)
    assert gone(dead)
    assert planned(folder) == ("us-east-1", {"configuration": "a"})
    assert provider_pid() != dead


ATTACH_AND_REPORT = """\
import sys
from pathlib import Path
from tests.matrix import terraform_provider
from tests.matrix.terraform_checks import terraform
terraform(Path(sys.argv[1]), "validate")
provider = terraform_provider.running()
print(provider.provider_pid(), provider.watchdog.pid, flush=True)
if sys.argv[2] == "hang":
    sys.stdin.read()
"""


@pytest.mark.parametrize("ending", ["exit", "hang"])
def test_no_provider_outlives_its_process(tmp_path: Path, ending: str) -> None:
    """Whether the test process exits or is killed (a crashed pytest worker), its provider and
    the provider's watchdog end with it."""
    folder = emulated_folder(tmp_path / "a", configuration("us-east-1", "a"))
    assert outlived_by(ATTACH_AND_REPORT, [str(folder)], ending, ROOT) == []
