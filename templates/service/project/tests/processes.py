"""Entry points run as real processes, several from one warm interpreter.

Each start of this service's interpreter costs about a second of CPU, nearly all of it spent
importing the frameworks (FastAPI, SQLAlchemy, pydantic, uvicorn, Alembic). `Forked` starts one
interpreter that imports those once, then forks a child per command, all at once: each child
runs its module as `python -m <module> <args>` does (as `__main__`, the working folder first on
`sys.path`), a process of its own with its own output files and exit status. The service's own
package is not imported before the fork: each child imports it, and reads its settings, afresh.

Run as a script (`python -P tests/processes.py <spec.json>`), this file is that interpreter.
"""

import atexit
import contextlib
import importlib
import json
import os
import runpy
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

FRAMEWORKS = (
    "fastapi",
    "pydantic_settings",
    "sqlalchemy.ext.asyncio",
    "uvicorn.main",
    "alembic.command",
    "alembic.config",
)
"""Imported before the fork: libraries every entry point of the service loads."""


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


class Forked:
    """`python -m <command>` for each command, started together from one warm interpreter,
    with the environment `env`, in the folder `cwd`; output files and statuses in `scratch`."""

    def __init__(
        self,
        commands: Sequence[Sequence[str]],
        env: Mapping[str, str],
        cwd: Path,
        scratch: Path,
    ) -> None:
        scratch.mkdir(parents=True, exist_ok=True)
        self.count = len(commands)
        self.scratch = scratch
        spec = scratch / "spec.json"
        spec.write_text(json.dumps({"warm": FRAMEWORKS, "commands": commands}), encoding="utf-8")
        with (scratch / "driver.log").open("w") as log:
            self.driver = subprocess.Popen(  # noqa: S603 - this interpreter, this file
                [sys.executable, "-P", str(Path(__file__)), str(spec)],
                env=dict(env),
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own, with its children
            )

    def exited(self) -> int:
        """How many of the commands have exited so far."""
        return len(list(self.scratch.glob("*.status")))

    def running(self) -> bool:
        """Every command is still running."""
        return self.driver.poll() is None and self.exited() == 0

    def wait(self, timeout: float) -> list[Finished]:
        """Each command's exit status and output, in the order given."""
        try:
            self.driver.wait(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):  # what is left of the group
                os.killpg(self.driver.pid, signal.SIGKILL)
        log = (self.scratch / "driver.log").read_text(encoding="utf-8", errors="replace")
        assert self.driver.returncode == 0, f"the forking interpreter failed:\n{log}"
        return [
            Finished(
                int((self.scratch / f"{index}.status").read_text(encoding="utf-8")),
                (self.scratch / f"{index}.stdout").read_text(encoding="utf-8"),
                (self.scratch / f"{index}.stderr").read_text(encoding="utf-8"),
            )
            for index in range(self.count)
        ]


def run_as_main(command: Sequence[str], output: Path) -> None:
    """In a forked child: `python -m <command>`, then exit with its status."""
    code = 1
    try:
        with (
            output.with_suffix(".stdout").open("w") as stdout,
            output.with_suffix(".stderr").open("w") as stderr,
        ):
            os.dup2(stdout.fileno(), 1)
            os.dup2(stderr.fileno(), 2)
        sys.argv = list(command)
        sys.path.insert(0, str(Path.cwd()))
        try:
            runpy.run_module(command[0], run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as stop:  # as the interpreter treats it at exit
            if stop.code is None or isinstance(stop.code, int):
                code = stop.code or 0
            else:
                sys.stderr.write(f"{stop.code}\n")
        except BaseException:  # noqa: BLE001 - an uncaught exception: a traceback, status 1
            sys.excepthook(*sys.exc_info())
        atexit._run_exitfuncs()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main(spec_file: Path) -> None:
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    for module in spec["warm"]:
        importlib.import_module(module)
    scratch = spec_file.parent
    children: dict[int, int] = {}
    for index, command in enumerate(spec["commands"]):
        pid = os.fork()
        if pid == 0:
            run_as_main(command, scratch / str(index))
        children[pid] = index
    while children:
        pid, status = os.wait()
        index = children.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        (scratch / f"{index}.status.tmp").write_text(str(code), encoding="utf-8")
        (scratch / f"{index}.status.tmp").rename(scratch / f"{index}.status")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
