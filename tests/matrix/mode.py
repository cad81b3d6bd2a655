"""Which combinations run: every one in CI, the pairwise subset locally."""

from __future__ import annotations

import os


def matrix_mode() -> str:
    mode = os.environ.get("SCAFFOLD_MATRIX") or ("full" if os.environ.get("CI") else "pairwise")
    assert mode in {"full", "pairwise"}, f"SCAFFOLD_MATRIX must be full or pairwise, not {mode}"
    return mode
