"""Fault points: places where a test can freeze a process, to crash it exactly there.

A process started with `MESSAGING_FAULT_POINT=<name>` in its environment, on reaching
`reached("<name>", details)`, writes `details` to the file `MESSAGING_FAULT_MARKER` names and
then blocks: the whole event loop stops (on purpose: nothing more happens, no acknowledgement
goes out) until the test, seeing the file, kills it. A point is armed only when both variables
are set, so a stray MESSAGING_FAULT_POINT alone never freezes a deployed worker. Unarmed
(production), a point compares two strings and returns.

Points: `consumer.before_settle` (details: how many events the batch processed), after a
batch's effects were committed and before it is acknowledged.
"""

import os
import time
from pathlib import Path

POINT_VARIABLE = "MESSAGING_FAULT_POINT"
MARKER_VARIABLE = "MESSAGING_FAULT_MARKER"
BEFORE_SETTLE = "consumer.before_settle"

_point = os.environ.get(POINT_VARIABLE, "") if os.environ.get(MARKER_VARIABLE) else ""


def reached(name: str, details: str = "") -> None:
    if name != _point:
        return
    marker = Path(os.environ[MARKER_VARIABLE])
    written = marker.with_name(marker.name + ".partial")
    written.write_text(details)
    written.replace(marker)  # whole: the test reads it as soon as it exists
    while True:  # until killed: a SIGTERM only interrupts one sleep
        time.sleep(3600)
