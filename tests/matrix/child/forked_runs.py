"""What the warm servers (``checkov_server.py``, ``mypy_server.py``) share: the protocol loop,
and one run of the tool in a forked child, as its command would run it.

Protocol: one JSON object per line on stdin, one reply per line on stdout; "ready" first.
  {"args": [...], "cwd": DIR, "output": FILE}  ->  {"exit": CODE, "cpu": SECONDS}
(the run's CPU seconds, with what the server did for it first: the server reaps it, so its
client's rusage never sees them). The
server ends when its stdin does (its worker closed it, or died in any way), after the run in
progress.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable

Run = Callable[[list[str]], int]
"""One run of the tool with these arguments, in the child: its exit code (or SystemExit)."""


def run_forked(
    name: str, run: Run, arguments: list[str], cwd: str, output: str
) -> tuple[int, float]:
    """`run(arguments)` in a forked child, in folder `cwd`, its stdout and stderr to `output`;
    its exit code and CPU seconds. Nothing of it flows back: the child ends with ``os._exit``."""
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(descriptor, 1)
            os.dup2(descriptor, 2)
            os.chdir(cwd)
            sys.argv = [name, *arguments]
            code = run(arguments)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException as error:
            print(f"{name}_server: {type(error).__name__}: {error}", file=sys.stderr)
            code = 70
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def serve(name: str, run: Run, prepare: Callable[[str], None] | None = None) -> None:
    """Say "ready", then answer each request on stdin with a forked run until stdin ends
    (``prepare(cwd)`` first in the server, if given: its CPU is counted in the run's)."""
    print(json.dumps("ready"), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        started = time.process_time()
        if prepare is not None:
            prepare(request["cwd"])
        own = time.process_time() - started
        code, cpu = run_forked(name, run, list(request["args"]), request["cwd"], request["output"])
        print(json.dumps({"exit": code, "cpu": round(cpu + own, 3)}), flush=True)
