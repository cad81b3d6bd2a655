"""The warm checkov server scans exactly as the command does, with its JSONPath parser's tables
built once (``child/checkov_server.py``) or in every scan as checkov builds them, and with each
Terraform text parsed once per server or in every scan: the same exit code and the same report,
failures included."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.matrix import checkov_runner
from tests.matrix.static_checks import require_tool

CONFIGURATION = """\
variable "encrypted" {
  default = false
}

variable "name" {
  default = "matrix"
}

resource "aws_ebs_volume" "data" {
  availability_zone = "us-east-1a"
  size              = 8
  encrypted         = var.encrypted
  tags = {
    Name = var.name
  }
}
"""
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ", re.MULTILINE)


def scanned(folder: Path, tables: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    interpreter = checkov_runner.checkov_interpreter(Path(require_tool("checkov", "")))
    assert interpreter is not None, "checkov is not installed by scripts/install-linters"
    monkeypatch.setenv(checkov_runner.TABLES_VARIABLE, tables)
    server = checkov_runner.WarmCheckov(interpreter)
    try:
        code, output = server.run(["--config-file", ".checkov.yaml"], folder)
    finally:
        server.stop()
    return code, TIMESTAMP.sub("", output)


def scans(
    folder: Path, texts: list[str], parse_once: str, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[int, str]]:
    """One server scanning ``folder`` with each of ``texts`` in turn as its ``main.tf``."""
    interpreter = checkov_runner.checkov_interpreter(Path(require_tool("checkov", "")))
    assert interpreter is not None, "checkov is not installed by scripts/install-linters"
    monkeypatch.setenv(checkov_runner.PARSE_VARIABLE, parse_once)
    server = checkov_runner.WarmCheckov(interpreter)
    outcomes = []
    try:
        for text in texts:
            (folder / "main.tf").write_text(text, encoding="utf-8")
            code, output = server.run(["--config-file", ".checkov.yaml"], folder)
            outcomes.append((code, TIMESTAMP.sub("", output)))
    finally:
        server.stop()
    return outcomes


def test_scans_with_each_text_parsed_once_report_what_scans_parsing_it_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same server through a configuration, the same with the volume encrypted and the first
    again (its parse reused), next to a server that parses every text in each scan."""
    (tmp_path / ".checkov.yaml").write_text(
        "directory:\n  - .\nframework:\n  - terraform\nskip-download: true\n", encoding="utf-8"
    )
    encrypted = CONFIGURATION.replace("default = false", "default = true")
    texts = [CONFIGURATION, encrypted, CONFIGURATION]
    parsed_each_time = scans(tmp_path, texts, "0", monkeypatch)
    parsed_once = scans(tmp_path, texts, "1", monkeypatch)
    assert parsed_once == parsed_each_time
    (failing, output), (_, encrypted_output), (again, again_output) = parsed_once
    assert failing == 1 and "FAILED for resource: aws_ebs_volume.data" in output, output
    assert encrypted_output != output and (again, again_output) == (failing, output)


def test_a_scan_with_the_tables_built_once_reports_what_one_without_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "main.tf").write_text(CONFIGURATION, encoding="utf-8")
    (tmp_path / ".checkov.yaml").write_text(
        "directory:\n  - .\nframework:\n  - terraform\nskip-download: true\n", encoding="utf-8"
    )
    built_each_time = scanned(tmp_path, "0", monkeypatch)
    built_once = scanned(tmp_path, "1", monkeypatch)
    assert built_once == built_each_time
    code, output = built_once
    assert (
        code == 1 and "CKV_AWS_3" in output and "FAILED for resource: aws_ebs_volume.data" in output
    ), output
