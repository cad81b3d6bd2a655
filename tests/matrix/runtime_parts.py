"""One reusable part of tier 2 (a group of the project's tests; migrating and booting): run it
traced, or reuse a stored result whose manifest matches this tree (reuse.py).

A part's result is stored under a primary key (everything it depends on besides the files it
reads) with the manifest of what its commands, and every process they started, read below the
project; a part whose commands were not fully traced (a process they started left no record,
one wrote into the project) is never stored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.matrix.child_records import child_records
from tests.matrix.reuse import Manifest, Result, Store


@dataclass(frozen=True)
class Place:
    store: Store | None
    """None when the runner cannot trace reads: nothing is looked up or stored."""
    project: Path
    label: str
    cpu: Callable[[], float] = lambda: 0.0
    """CPU seconds the worker and its programs have used so far (cpu_clock.py + the runner's)."""


Body = Callable[[list[Path], dict[str, Any]], None]
"""Runs the part: appends its commands' trace files, fills its details, raises AssertionError
on a failure."""


def reused_or_run(
    kind: str, primary: str, place: Place, body: Body, part: str
) -> tuple[Result, dict[str, Any]]:
    """The part's result and its row for the report (outcome, reused_from, seconds and CPU
    seconds it took where it ran, reusable). ``part`` names it in the stored result (a group's
    name, ``migrate+boot``), for a projection by distinct inputs (projection_distinct.py)."""
    found = place.store.find(kind, primary, place.project) if place.store else None
    if found is not None:
        row = {"reused_from": found.source, "seconds": found.seconds, "reusable": True,
               "cpu_seconds": found.details.get("cpu_seconds", 0.0)}  # fmt: skip
        return found, {"outcome": found.outcome, **row}
    started, cpu_started = time.monotonic(), place.cpu()
    traces: list[Path] = []
    details: dict[str, Any] = {"part": part}
    try:
        body(traces, details)
        outcome, message = "passed", ""
    except AssertionError as error:
        outcome, message = "failed", str(error)[:6000]
    seconds = round(time.monotonic() - started, 2)
    details["cpu_seconds"] = round(place.cpu() - cpu_started, 2)
    result = Result(outcome, message, place.label, seconds, details)
    manifest = manifest_of(traces) if place.store else None
    if place.store and manifest is not None:
        place.store.record(kind, primary, place.project, manifest, result)
    row = {"reused_from": None, "seconds": seconds, "reusable": manifest is not None,
           "cpu_seconds": details["cpu_seconds"]}  # fmt: skip
    return result, {"outcome": outcome, **row}


def manifest_of(traces: list[Path]) -> Manifest | None:
    """Every path the part's commands and the processes they started read, or None when a run
    is not fully traced (child/read_trace.py): it wrote into the project, a process replaced
    itself, the trace saw an error, or a process it started left no record (not Python, its
    environment stripped of the trace)."""
    read: set[str] = set()
    probed: set[str] = set()
    viewed: set[str] = set()
    for trace in traces:
        if not trace.is_file():
            return None
        top = json.loads(trace.read_text(encoding="utf-8"))
        folder = top.get("children")
        children = child_records(Path(folder)) if folder else []
        if children is None:
            return None
        for record in [top, *children]:
            if record["written"] or record["errors"] or record["untraceable"]:
                return None
            read.update(record["opened"], record["listed"])
            probed.update(record["probed"])
            viewed.update(record.get("viewed", ()))
        if not every_child_recorded(top, children):
            return None
    return Manifest(sorted(read), sorted(probed - read), sorted(viewed))


def every_child_recorded(top: dict[str, Any], children: list[dict[str, Any]]) -> bool:
    """Each process started as many processes as there are records naming it as their parent,
    and every record's parent is a traced process: no process of the run went unrecorded.
    Two records with one process id (an id reused within the run) cannot be told apart."""
    pids = [top["pid"], *(child["pid"] for child in children)]
    if len(set(pids)) != len(pids):
        return False
    started = {record["pid"]: record["created"] for record in [top, *children]}
    named: dict[int, int] = {}
    for child in children:
        named[child["ppid"]] = named.get(child["ppid"], 0) + 1
    return all(pid in started for pid in named) and all(
        named.get(pid, 0) == count for pid, count in started.items()
    )
