"""Drive `scaffold new` through a real pseudo-terminal, as a person would."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from scaffold.catalog import CATALOG
from scaffold.prompts import DESCRIPTION_LABEL, wrap_description
from tests.support.cli import run_cli
from tests.support.disk import snapshot

DOWN = "\x1b[B"
SPACE = " "
ENTER = "\r"
RENDERING_SECONDS = 300
"""Writing the project on a loaded CI machine has taken longer than the prompts' 30 s."""


def test_ticking_with_arrows_and_space_equals_the_flags(workdir: Path) -> None:
    available = [c for c in CATALOG if c.available]
    ticked = available[:: max(1, len(available) // 2)][:2]  # the first, and one further on
    child = pexpect.spawn(
        sys.executable,
        ["-m", "scaffold", "new", "demo", "--output-dir", "typed", "--no-git", "--no-lock"],
        cwd=str(workdir),
        env={**os.environ, "TERM": "xterm", "COLUMNS": "120", "LINES": "40"},
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 120),
    )
    child.expect("Capabilities")
    position = 0
    for capability in ticked:
        target = available.index(capability)
        child.send(DOWN * (target - position))
        child.send(SPACE)
        position = target
    child.send(ENTER)
    chosen_variants: list[str] = []
    for capability, variant in CATALOG.variants():
        if capability in ticked:
            child.expect(variant.help)
            child.send(DOWN + ENTER)  # the second choice: not the default
            chosen_variants += [variant.flag, variant.choices[1]]
    # Rendering follows the last answer; the 30 s above are for a prompt to appear, not for it.
    child.expect(pexpect.EOF, timeout=RENDERING_SECONDS)
    child.close()
    assert child.exitstatus == 0, child.before

    names = ",".join(c.name for c in ticked)
    flags = ["--with", names] if names else ["--yes"]
    outcome = run_cli(
        "new", "demo", "--output-dir", "flagged", "--no-git", "--no-lock", *flags, *chosen_variants
    )
    assert outcome.exit_code == 0, outcome.stderr
    typed, flagged = workdir / "typed" / "demo", workdir / "flagged" / "demo"
    assert snapshot(typed) == snapshot(flagged)
    assert snapshot(typed)  # the project was written


@pytest.mark.parametrize("columns", [40, 60, 80, 200])
def test_descriptions_are_wrapped_whole_words_within_the_terminal(columns: int) -> None:
    for capability in CATALOG:
        shown = (DESCRIPTION_LABEL + wrap_description(capability.help, columns)).splitlines()
        assert max(len(line) for line in shown) < columns, capability.name
        assert " ".join(shown).split()[1:] == capability.help.split()  # [0] is "Description:"


def test_the_description_on_a_narrow_terminal_is_shown_to_its_last_word(workdir: Path) -> None:
    pointed = CATALOG.available[0]  # the cursor starts on the first capability one can tick
    child = pexpect.spawn(
        sys.executable,
        ["-m", "scaffold", "new", "demo", "--no-git"],
        cwd=str(workdir),
        env={**os.environ, "TERM": "xterm", "COLUMNS": "60", "LINES": "40"},
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 60),
    )
    child.expect("Capabilities")
    child.expect(re.escape(pointed.help.split()[-1]))  # cut off at column 60 without wrapping
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert snapshot(workdir) == {}
