"""CPU seconds the backing services have used so far: the work a combination's tests make
PostgreSQL's backends, the brokers, Redis and the emulators do, which no worker's clock
(cpu_clock.py) sees.

Each service started by ``scripts/services`` leaves its pid in its folder (``NAME/NAME.pid``;
PostgreSQL's ``data/postmaster.pid``); a service's CPU is that of every live process under it
(a wrapper script's child runs the server: RabbitMQ's ``beam.smp``) plus the children they
reaped (PostgreSQL's backends). Linux only (``/proc``); elsewhere, or with no services folder,
nothing is measured.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and the children it reaped)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    fields = text[text.rfind(")") + 2 :].split()
    ticks = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return int(fields[1]), ticks / os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, float]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            found[int(entry)] = stat
    return found


def service_pids(root: Path) -> dict[str, int]:
    """Each running service's pid, by its folder's name."""
    pids: dict[str, int] = {}
    for pidfile in [*root.glob("*/*.pid"), *root.glob("*/data/postmaster.pid")]:
        try:
            first = pidfile.read_text(encoding="utf-8").split("\n", 1)[0].strip()
        except OSError:
            continue
        service = pidfile.parents[1 if pidfile.name == "postmaster.pid" else 0].name
        if first.isdigit() and Path(f"/proc/{first}").exists():
            pids[service] = int(first)
    return pids


def cpu_seconds(root: Path | None) -> dict[str, float]:
    """CPU seconds so far per running service (empty when nothing can be measured)."""
    if root is None or not root.is_dir() or not Path("/proc/self/stat").exists():
        return {}
    processes = _processes()
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (parent, _) in processes.items():
        children[parent].append(pid)

    def tree(pid: int) -> float:
        return processes[pid][1] + sum(tree(child) for child in children.get(pid, ()))

    return {
        name: round(tree(pid), 2)
        for name, pid in sorted(service_pids(root).items())
        if pid in processes
    }


def used_since(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """What each service used between two readings (a service restarted in between counts
    from its new start)."""
    return {
        name: round(spent - before.get(name, 0.0) if spent >= before.get(name, 0.0) else spent, 2)
        for name, spent in after.items()
    }
