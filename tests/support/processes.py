"""Whether a process has ended, for tests that check that nothing outlives its owner."""

from __future__ import annotations

import subprocess
import sys
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


def outlived_by(script: str, arguments: list[str], ending: str, cwd: Path) -> list[int]:
    """Run ``python -c script ARGUMENTS ENDING``, which starts some processes, prints their pids
    on one line and then exits (``ending`` "exit") or waits on its stdin ("hang": it is killed,
    as a crashed pytest worker would be, once its first process is seen alive); the pids of
    those processes still running after it ended."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, *arguments, ending],
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    started = [int(pid) for pid in process.stdout.readline().split()]
    assert started, "the script reported no process"
    if ending == "hang":
        assert not gone(started[0], seconds=0)
        process.kill()
    process.wait(timeout=120)
    return [pid for pid in started if not gone(pid)]
