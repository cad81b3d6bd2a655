"""Which combinations run: every one (`SCAFFOLD_MATRIX=full`, what `.ci/run` sets) or the
pairwise subset (the default, for a quick local run); and, for CI runners, which shard."""

from __future__ import annotations

import os

from scaffold.matrix import combinations, pairwise
from scaffold.selection import Selection
from tests.matrix.shards import Shard

SHARD_VARIABLE = "SCAFFOLD_MATRIX_SHARD"
ONLY_VARIABLE = "SCAFFOLD_MATRIX_ONLY"


def matrix_mode() -> str:
    mode = os.environ.get("SCAFFOLD_MATRIX") or "pairwise"
    assert mode in {"full", "pairwise"}, f"SCAFFOLD_MATRIX must be full or pairwise, not {mode}"
    return mode


def selected(shard_option: str | None) -> list[Selection]:
    """The combinations this run covers: the mode's set, then this shard's part of it, then,
    when SCAFFOLD_MATRIX_ONLY lists labels (the breakage test does), just those."""
    chosen = combinations() if matrix_mode() == "full" else pairwise()
    text = shard_option or os.environ.get(SHARD_VARIABLE)
    if text:
        chosen = Shard.parse(text).select(chosen)
    only = [label for label in os.environ.get(ONLY_VARIABLE, "").split(",") if label]
    if only:
        unknown = sorted(set(only) - {s.label() for s in chosen})
        assert not unknown, f"{ONLY_VARIABLE}: not combinations of this run: {unknown}"
        chosen = [s for s in chosen if s.label() in only]
    return chosen
