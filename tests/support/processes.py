"""Whether a process has ended, for tests that check that nothing outlives its owner."""

from __future__ import annotations

import time
from pathlib import Path


def gone(pid: int, seconds: float = 60) -> bool:
    """Whether process ``pid`` has ended (waiting up to ``seconds`` for it to); a zombie, ended
    but not yet reaped by whoever adopted it, counts as ended."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
