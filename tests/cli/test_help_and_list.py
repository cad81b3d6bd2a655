"""What `--help` and `scaffold list` show, derived from the catalog and fitted to the terminal."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scaffold.catalog import CATALOG
from tests.support.cli import Outcome, refused, run_cli


def commands_in_help(text: str) -> list[str]:
    section = text.split("Commands:\n", 1)[1]
    return [line.split()[0] for line in section.splitlines() if line.startswith("  ")]


def test_help_lists_new_first() -> None:
    outcome = run_cli("--help")
    assert outcome.exit_code == 0
    commands = commands_in_help(outcome.stdout)
    assert commands[0] == "new"
    assert {"list", "update", "add", "remove", "check"} <= set(commands)


def test_new_help_offers_variant_flags_of_available_capabilities_only() -> None:
    text = run_cli("new", "--help").stdout
    assert list(CATALOG.variants()), "the catalog has no variant to check"
    for capability, variant in CATALOG.variants():
        assert (variant.flag in text) == capability.available, (capability.name, variant.flag)


HIDING_CLI = """\
import dataclasses, sys
import scaffold.catalog as catalog
hidden = sys.argv[1]
catalog.CATALOG = dataclasses.replace(catalog.CATALOG, capabilities=tuple(
    dataclasses.replace(c, available=False) if c.name == hidden else c
    for c in catalog.CATALOG.capabilities
))
from scaffold.cli import app
app(sys.argv[2:], prog_name="scaffold")
"""
"""The real CLI, built on the catalog with one capability not offered (whatever the catalog
offers today): every module reads ``CATALOG`` from `scaffold.catalog` when it is imported, and
`new`'s variant flags are made from it then, so the catalog is replaced before that import."""


def run_cli_hiding(capability: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HIDING_CLI, capability, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.mark.usefixtures("unchanged")
def test_a_hidden_variant_flag_is_not_offered_and_is_refused_by_name() -> None:
    capability, variant = next(CATALOG.variants())
    shown = run_cli_hiding(capability.name, "new", "--help")
    assert shown.returncode == 0, shown.stderr
    assert variant.flag not in shown.stdout
    assert "--with" in shown.stdout  # the help itself was shown
    outcome = run_cli_hiding(
        capability.name, "new", "demo", "--with", capability.name, variant.flag, variant.choices[0]
    )
    refused(Outcome(outcome.returncode, outcome.stdout, outcome.stderr), capability.name)


@pytest.mark.parametrize("columns", [40, 60, 80, 100, 160])
def test_list_fits_the_terminal_and_cuts_no_word(
    columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    outcome = run_cli("list")
    assert outcome.exit_code == 0
    lines = outcome.stdout.splitlines()
    too_long = [line for line in lines if len(line) > columns]
    assert too_long == []
    words = set(outcome.stdout.split())
    for capability in CATALOG:
        assert set(capability.help.split()) <= words, capability.name
        assert capability.name in words
    for preset in CATALOG.presets:
        assert preset.name in outcome.stdout


@pytest.mark.parametrize("columns", ["1000", None])
def test_a_wide_terminal_or_a_pipe_gets_one_line_per_capability(columns: str | None) -> None:
    """Without a terminal (and no COLUMNS), lines are not wrapped: `scaffold list | grep` works."""
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES"}}
    if columns:
        env["COLUMNS"] = columns
    done = subprocess.run(
        [sys.executable, "-m", "scaffold", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    rows = [line for line in lines[1:] if line and not line.startswith("Presets")]
    assert [row.split()[0] for row in rows] == list(CATALOG.names)
    for row, capability in zip(rows, CATALOG, strict=True):
        assert row.endswith(capability.help)
