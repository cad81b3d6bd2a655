"""A fork server ("zygote") for one matrix worker: it imports the generated services' heavy
third-party modules once, then forks a child per command (a generated project's pytest, Alembic,
uvicorn). Each child starts from that warm, pristine state, so it skips the seconds a fresh
interpreter spends importing FastAPI, SQLAlchemy, pydantic, pytest and its plugins.

Isolation: this process never imports a module of a generated project; each child checks that
no module below its project folder is loaded before it starts (exit 70 otherwise), then gets its
own working folder, environment, ``sys.path``, output file and a reseeded ``random``. A child
ends with ``os._exit``, so nothing of it flows back here.

Warm-up runs pytest once on an empty folder, so pytest's plugins are imported through its
assertion-rewriting hook exactly as in a fresh run (no "already imported" warnings), then
imports the modules named on the command line.

Protocol: one JSON object per line on stdin, one reply per line on stdout.
  {"op": "spawn", "kind": "pytest"|"alembic"|"uvicorn", "args": [...], "cwd": ..., "env": {...},
   "path": [...], "log": FILE, "trace": FILE|null}           -> {"pid": N}
  (the records of the processes a traced command starts: in the folder FILE + ".children")
  {"op": "wait", "pid": N}                       -> {"pid": N, "exit": CODE, "cpu": SECONDS}
  {"op": "poll", "pid": N}       -> {"pid": N, "exit": CODE or null while running, "cpu": ...}
Standard library only at import time: this runs in the generated projects' environment.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import platform
import random
import signal
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ISOLATION_BROKEN = 70
STRACE: list[str | None] = [None]
"""The strace the traced commands run binaries under, if one works here (read_trace.py)."""
PYTEST_PLUGINS = ("matrix_probe", "narrow_collect")
"""The harness's plugins in every pytest run (this folder's modules): the probe, and the
collection that lists no folder a run only passes through (a group's reads stay its own)."""


def warm_up(modules: list[str]) -> None:
    import pytest

    with tempfile.TemporaryDirectory(prefix="zygote-warm-") as empty:
        os.chdir(empty)
        pytest.main(["-q", "-p", "no:cacheprovider", "--collect-only", "--rootdir", empty, empty])
    os.chdir("/")
    for name in modules:
        importlib.import_module(name)
    # The machine's description, cached for every child: its processor field is the output of
    # `uname -p`, a program it starts (the stripe client puts platform.platform() in each
    # request's user agent), which a traced run could not see into, so it was never reused.
    platform.platform()
    assert threading.active_count() == 1, "a warm-up import started a thread: forking is unsafe"
    # What is loaded now stays for every child: keep the collector off it, so that children
    # do not copy the shared pages just to scan them.
    gc.collect()
    gc.freeze()


def loaded_from(folder: str) -> list[str]:
    prefix = os.path.realpath(folder) + os.sep
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if os.path.realpath(str(getattr(module, "__file__", None) or "/")).startswith(prefix)
    )


def run_child(request: dict[str, Any], replies: int) -> int:
    os.close(replies)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    leaked = loaded_from(request["cwd"])
    if leaked:
        print(f"zygote: isolation broken, already loaded: {leaked}", file=sys.stderr)
        return ISOLATION_BROKEN
    random.seed()
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[:0] = request["path"]
    sys.argv = [request["kind"], *request["args"]]
    trace = None
    if request.get("trace"):
        tracing = sys.modules["read_trace"]
        trace = tracing.ReadTrace(request["cwd"], request["trace"] + ".children", STRACE[0])
        trace.propagate()
        trace.install()
    try:
        return run_command(request["kind"], request["args"])
    finally:
        if trace is not None:
            trace.write(Path(request["trace"]))


def run_command(kind: str, args: list[str]) -> int:
    try:
        if kind == "pytest":
            import pytest

            plugins = [sys.modules[name] for name in PYTEST_PLUGINS]
            return int(pytest.main(args, plugins=plugins))
        if kind == "alembic":
            alembic_config: Any = importlib.import_module("alembic.config")
            alembic_config.main(argv=args, prog="alembic")
            return 0
        if kind == "uvicorn":
            # uvicorn re-raises the SIGTERM it shut down on; exiting through SystemExit instead
            # of the default action (same status, 128 + 15) lets the trace be written.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
            uvicorn: Any = importlib.import_module("uvicorn")
            uvicorn.main.main(args=args, prog_name="uvicorn")
            return 0
        print(f"zygote: unknown command kind {kind!r}", file=sys.stderr)
        return 2
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)


def spawn(request: dict[str, Any], replies: int) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        code = run_child(request, replies)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve(modules: list[str]) -> None:
    # Replies get their own descriptor; anything printed (pytest's warm-up) goes to stderr.
    replies_fd = os.dup(1)
    os.dup2(2, 1)
    replies = os.fdopen(replies_fd, "w")
    sys.path.append(str(HERE))
    for helper in (*PYTEST_PLUGINS, "read_trace"):  # loaded once here: no project module in them
        importlib.import_module(helper)
    sys.path.remove(str(HERE))
    STRACE[:] = [sys.modules["read_trace"].working_strace()]
    warm_up(modules)
    finished: dict[int, tuple[int, float]] = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "spawn":
            reply: dict[str, Any] = {"pid": spawn(request, replies_fd)}
        elif request["op"] in ("wait", "poll"):
            pid = request["pid"]
            if pid not in finished:
                flags = os.WNOHANG if request["op"] == "poll" else 0
                reaped, status, usage = os.wait4(pid, flags)
                if reaped:
                    cpu = usage.ru_utime + usage.ru_stime
                    finished[pid] = (os.waitstatus_to_exitcode(status), cpu)
            done = finished.pop(pid, None) if request["op"] == "wait" else finished.get(pid)
            reply = {"pid": pid, "exit": done[0] if done else None, "cpu": done[1] if done else 0}
        else:
            reply = {"error": f"unknown op {request['op']!r}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    serve(sys.argv[1:])
