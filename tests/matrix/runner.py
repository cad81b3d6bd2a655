"""How tier 2 starts a generated project's Python commands: forked from a warm fork server
(the default), or as fresh interpreters (``SCAFFOLD_MATRIX_ZYGOTE=0``, the plain way, kept to
measure the difference and to rule the fork server out when something looks odd).

A command is ``pytest``, ``alembic`` or ``uvicorn`` with its arguments, run in the project's
folder with the given environment, its output in a log file. Both runners load the matrix probe
into pytest (``child/matrix_probe.py``); only the fork server can trace what a command reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from tests.matrix.child.zygote_server import PYTEST_PLUGINS

CHILD = Path(__file__).resolve().parent / "child"
SERVER = CHILD / "zygote_server.py"
WARM = (
    "httpx", "sqlalchemy.ext.asyncio", "sqlalchemy.dialects.postgresql.asyncpg",
    "alembic.command", "alembic.config", "alembic.runtime.migration", "uvicorn.main",
    "uvicorn.server", "redis.asyncio",
)  # fmt: skip
"""Submodules worth importing ahead, besides the top-level packages of the dependencies (each
only when its package is one of them)."""
TOOLS = frozenset({"mypy", "ruff"})  # development tools the tests never import


@dataclass(frozen=True)
class Command:
    kind: str
    args: list[str]
    cwd: Path
    env: dict[str, str]
    log: Path
    trace: Path | None = None


class Runner(Protocol):
    traces: bool
    cpu_seconds: float
    """CPU time of every command that finished so far (user + system)."""

    def start(self, command: Command) -> int: ...
    def wait(self, pid: int, timeout: float) -> int: ...
    def poll(self, pid: int) -> int | None: ...
    def close(self) -> None: ...


def run(runner: Runner, command: Command, timeout: float = 900) -> int:
    """The command's exit code; a command killed for running past ``timeout`` fails with where
    it waited (see ``hang_report``)."""
    pid = runner.start(command)
    try:
        return runner.wait(pid, timeout)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{hang_report(command.log)}") from None


def hang_report(log: Path) -> str:
    """What a killed command's log says about where it hung: from the first traceback dump of
    pytest's ``faulthandler_timeout`` (every generated project sets one), or the log's end."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    dump = text.find("Timeout (")
    return text[dump : dump + 8000] if dump >= 0 else text[-3000:]


def stop(runner: Runner, pid: int) -> int:
    """SIGTERM (a graceful shutdown, as an orchestrator does), then its exit code."""
    if runner.poll(pid) is None:
        os.kill(pid, signal.SIGTERM)
    return runner.wait(pid, timeout=20)


def warm_modules(python: Path, requirements: list[str]) -> list[str]:
    """Top-level modules of the runtime dependencies (asked of the shared environment)."""
    names = sorted({_distribution(r) for r in requirements} - TOOLS)
    script = (
        "import json, sys, importlib.metadata as m\n"
        "tops = {}\n"
        "for module, dists in m.packages_distributions().items():\n"
        "    for dist in dists:\n"
        "        tops.setdefault(dist.lower().replace('_', '-'), []).append(module)\n"
        "print(json.dumps(sorted({t for n in sys.argv[1:] for t in tops.get(n, [])\n"
        "                         if not t.startswith('_')})))\n"
    )
    done = subprocess.run(
        [str(python), "-c", script, *names], capture_output=True, text=True, check=True
    )
    found: list[str] = json.loads(done.stdout)
    return [*found, *(name for name in WARM if name.split(".")[0] in found)]


def _distribution(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return match.group(0).lower().replace("_", "-")


class ForkServer:
    """One zygote per xdist worker, started with the environment every combination shares."""

    traces = True

    def __init__(self, python: Path, env: dict[str, str], modules: list[str], log: Path) -> None:
        self.log = log
        self.cpu_seconds = 0.0
        self.running: set[int] = set()
        with log.open("w") as errors:
            self.process = subprocess.Popen(
                [str(python), "-P", str(SERVER), *modules],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                env={k: v for k, v in env.items() if k != "PYTHONPATH"}, text=True, cwd="/",
            )  # fmt: skip

    def _ask(self, request: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        stdin, stdout = self._pipes()
        stdin.write(json.dumps(request) + "\n")
        stdin.flush()
        if timeout is not None and not select.select([stdout], [], [], timeout)[0]:
            os.kill(request["pid"], signal.SIGKILL)
            # This request's reply, once the server has reaped it. Asking again would make the
            # server wait for a child it has reaped already: it died of that, and every later
            # combination of the worker failed on a broken pipe.
            stdout.readline()
            raise AssertionError(f"{request} did not finish within {timeout} s: killed")
        line = stdout.readline()
        assert line, f"the fork server died; its log:\n{self.log.read_text()[-3000:]}"
        reply: dict[str, Any] = json.loads(line)
        assert "error" not in reply, reply["error"]
        return reply

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self.process.stdin and self.process.stdout
        return self.process.stdin, self.process.stdout

    def start(self, command: Command) -> int:
        src = command.cwd / "src"
        request = {
            "op": "spawn", "kind": command.kind, "args": command.args,
            "cwd": str(command.cwd), "env": command.env, "path": [str(command.cwd), str(src)],
            "log": str(command.log), "trace": str(command.trace) if command.trace else None,
        }  # fmt: skip
        pid: int = self._ask(request)["pid"]
        self.running.add(pid)
        return pid

    def wait(self, pid: int, timeout: float) -> int:
        try:
            reply = self._ask({"op": "wait", "pid": pid}, timeout)
        finally:
            self.running.discard(pid)  # reaped, even when it had to be killed
        self.cpu_seconds += float(reply["cpu"])
        code: int = reply["exit"]
        return code

    def poll(self, pid: int) -> int | None:
        code: int | None = self._ask({"op": "poll", "pid": pid})["exit"]
        return code

    def close(self) -> None:
        """Stop what is still running (an interrupted session's server), then the zygote."""
        for pid in self.running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._pipes()[0].close()
        self.process.wait(timeout=30)


class FreshInterpreters:
    """``python -m pytest|alembic|uvicorn`` in a new process each time."""

    traces = False

    def __init__(self, python: Path) -> None:
        self.python = python
        self.cpu_seconds = 0.0
        self.running: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, command: Command) -> int:
        assert command.trace is None, "only the fork server traces reads"
        args = command.args
        env = dict(command.env)
        if command.kind == "pytest":
            args = [*(a for name in PYTEST_PLUGINS for a in ("-p", name)), *args]
            env["PYTHONPATH"] = f"{env['PYTHONPATH']}{os.pathsep}{CHILD}"
        with command.log.open("wb") as log:
            process = subprocess.Popen(
                [str(self.python), "-m", command.kind, *args],
                cwd=command.cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        self.running[process.pid] = process
        return process.pid

    def poll(self, pid: int) -> int | None:
        process = self.running[pid]
        if process.returncode is None:
            reaped, status, usage = os.wait4(pid, os.WNOHANG)
            if reaped:
                self._reaped(process, status, usage)
        return process.returncode

    def wait(self, pid: int, timeout: float) -> int:
        process = self.running[pid]
        deadline = time.monotonic() + timeout
        while self.poll(pid) is None:
            if time.monotonic() > deadline:
                process.kill()
                self._reaped(process, *os.wait4(pid, 0)[1:])
                del self.running[pid]
                raise AssertionError(f"{process.args!r} did not finish within {timeout} s")
            time.sleep(0.02)
        del self.running[pid]
        return int(process.returncode)

    def _reaped(self, process: subprocess.Popen[bytes], status: int, usage: Any) -> None:
        """wait4 instead of Popen.wait: the same exit status, and the child's CPU time."""
        process.returncode = os.waitstatus_to_exitcode(status)
        self.cpu_seconds += usage.ru_utime + usage.ru_stime

    def close(self) -> None:
        for process in self.running.values():
            process.kill()
        deadline = time.monotonic() + 10
        for process in self.running.values():
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
