"""Entry points run as real processes, forked from one warm interpreter per test session.

Each start of this service's interpreter costs about a second of CPU, nearly all of it spent
importing the frameworks (FastAPI, SQLAlchemy, pydantic, uvicorn, Alembic). One interpreter per
test session (the fork server, started by the first `Forked`) imports those once; each `Forked`
asks it for a batch: a process of its own (its own process group, environment and working
folder) that forks a child per command, all at once. Each child runs its module as
`python -m <module> <args>` does (as `__main__`, the working folder first on `sys.path`), a
process of its own with its own output files and exit status. The service's own package is never
imported in the fork server: each child imports it, and reads its settings, afresh.

The fork server is forked from the test process itself when the session configures
(`prepare_fork_server()`, from conftest's `pytest_configure`): before any module of the service
or of a capability's fixtures is loaded, and before any thread runs, so it holds pytest and the
frameworks conftest imported, and nothing of the service. It puts back what a fresh `python -P`
would have where pytest changed it (`sys.path`, the import hooks, the standard streams, warning
filters, logging's root handlers, faulthandler, exit functions) and waits; it imports the rest of
the frameworks only when the first batch is asked for, so a session that starts no process pays
for a fork alone. A fresh interpreter started then cost about 1 CPU-s for the base service and
1.8 for the fullest, importing again what the test process had. Where it cannot fork (a thread
already runs, pytest records warnings, no `os.fork`), the first `Forked` starts this file as a
script (`python -P tests/processes.py`), the same server: it reads one spec file path per line
on stdin and answers each with the batch's process id; it exits when stdin closes (the test
process ended). A spec names the session's app when it is of some capabilities
(`fixtures.app_packages()`), whose modules alone the server's warm-up probe imports.

The server warms up with the garbage collector off and freezes what it loaded before it forks
(`gc.freeze`, as the `gc` documentation advises for a process that forks without exec): the
300 collections run while it imports a thousand modules freed under a thousand of 130,000
objects, and a child's collections would walk, and so copy, every page of what it inherited.
Each batch turns the collector back on, so each command runs with it as a fresh interpreter
does. The warm-up's probe hands back the code it compiled of the service's own files, and each
child's import system takes it for exactly those bytes instead of compiling them again (the
child still reads each file, as it would to check a `__pycache__`). The server ends with
`os._exit` once it has reaped its batches: tearing down its modules did nothing but cost CPU.
Together, about half of the server's CPU time in the base service.
"""

import atexit
import contextlib
import faulthandler
import gc
import importlib
import importlib.machinery
import json
import logging
import marshal
import os
import runpy
import signal
import subprocess
import sys
import threading
import time
import types
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

FRAMEWORKS = (
    "fastapi",
    "pydantic_settings",
    "sqlalchemy.ext.asyncio",
    "uvicorn.main",
    "alembic.command",
    "alembic.config",
)
"""Imported before the fork: libraries every entry point of the service loads."""
SOURCES = Path(__file__).resolve().parents[1] / "src"


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


class ForkServer:
    """The warm interpreter, one per test process: forked from it (`forked`), or this file run
    as a script."""

    def __init__(self, pid: int, requests: int, replies: int) -> None:
        self.pid = pid
        self.requests = os.fdopen(requests, "w")
        self.replies = os.fdopen(replies)
        self.returncode: int | None = None
        self.lock = threading.Lock()
        atexit.register(self.close)

    @classmethod
    def spawned(cls) -> "ForkServer":
        process = subprocess.Popen(  # noqa: S603 - this interpreter, this file
            [sys.executable, "-P", str(Path(__file__))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,  # signals meant for the tests' process group pass it by
        )
        assert process.stdin is not None
        assert process.stdout is not None
        server = cls(process.pid, os.dup(process.stdin.fileno()), os.dup(process.stdout.fileno()))
        process.stdin.close()
        process.stdout.close()
        process.returncode = 0  # reaped by `poll`/`close` here, not by subprocess
        return server

    @classmethod
    def forked(cls) -> "ForkServer":
        requests_read, requests_write = os.pipe()
        replies_read, replies_write = os.pipe()
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            with contextlib.suppress(Exception):
                stream.flush()  # type: ignore[union-attr]
        pid = os.fork()
        if pid == 0:
            try:
                os.close(requests_write)
                os.close(replies_read)
                os.setsid()  # signals meant for the tests' process group pass it by
                as_fresh_interpreter()
                serve(os.fdopen(requests_read), os.fdopen(replies_write, "w"))
            except BaseException:  # noqa: BLE001 - on its stderr; the test process sees it stop
                sys.excepthook(*sys.exc_info())
            finally:
                os._exit(1)
        os.close(requests_read)
        os.close(replies_write)
        return cls(pid, requests_write, replies_read)

    def poll(self) -> int | None:
        if self.returncode is None:
            with contextlib.suppress(ChildProcessError):
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def start(self, spec: Path) -> int:
        """The process id of a new batch, running the commands of `spec`."""
        with self.lock:
            self.requests.write(f"{spec}\n")
            self.requests.flush()
            answer = self.replies.readline()
        assert answer.strip().isdigit(), f"the fork server stopped: {answer!r}"
        return int(answer)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.requests.close()
        deadline = time.monotonic() + 10
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        if self.returncode is None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.returncode = -signal.SIGKILL
        self.replies.close()


_servers: list[ForkServer] = []


def can_fork() -> bool:
    """Forking the test process gives a sound server: one thread (a fork copies only the
    caller's), and pytest not recording warnings (a recorder would swallow the commands')."""
    recorded = getattr(warnings, "_showwarnmsg_impl", None)
    return (
        hasattr(os, "fork")
        and threading.active_count() == 1
        and getattr(recorded, "__module__", None) == "warnings"
    )


def prepare_fork_server(service_package: str) -> None:
    """Fork the session's fork server now, if the service's package is not loaded yet (see the
    module's docstring); else the first `Forked` starts one."""
    if not _servers and service_package not in sys.modules and can_fork():
        _servers.append(ForkServer.forked())


def fork_server() -> ForkServer:
    """This test process's fork server, started on first use (and again if it died)."""
    if not _servers or _servers[0].poll() is not None:
        _servers[:] = [ForkServer.spawned()]
    return _servers[0]


def close_fork_server() -> None:
    """Stop the fork server and wait for it (at the session's end: a test process that ends
    with os._exit runs no atexit, and the server's CPU time counts only once it is waited for)."""
    for server in _servers:
        server.close()
    _servers.clear()


class Forked:
    """`python -m <command>` for each command, started together from the warm interpreter,
    with the environment `env`, in the folder `cwd`; output files and statuses in `scratch`."""

    def __init__(
        self,
        commands: Sequence[Sequence[str]],
        env: Mapping[str, str],
        cwd: Path,
        scratch: Path,
    ) -> None:
        from .fixtures import app_packages  # noqa: PLC0415 - the server (a script) never imports it

        scratch.mkdir(parents=True, exist_ok=True)
        app = app_packages()  # the server's warm-up imports what this session's processes load
        self.count = len(commands)
        self.scratch = scratch
        spec = scratch / "spec.json"
        spec.write_text(
            json.dumps({"commands": commands, "env": dict(env), "cwd": str(cwd), "app": app}),
            encoding="utf-8",
        )
        self.batch = fork_server().start(spec)

    def exited(self) -> int:
        """How many of the commands have exited so far."""
        return len(list(self.scratch.glob("[0-9]*.status")))

    def done(self) -> bool:
        """The batch has ended: every command exited (or the batch failed)."""
        return (self.scratch / "batch.status").is_file()

    def running(self) -> bool:
        """Every command is still running."""
        return not self.done() and self.exited() == 0

    def pid(self, index: int) -> int:
        """The process id of command `index` (known once the batch forked it)."""
        path = self.scratch / f"{index}.pid"
        deadline = time.monotonic() + 60
        while not path.is_file():
            assert not self.done(), "the batch ended before it started the command"
            assert time.monotonic() < deadline, "the command did not start within 60 s"
            time.sleep(0.01)
        return int(path.read_text(encoding="utf-8"))

    def send(self, index: int, signum: int) -> None:
        """Send `signum` to command `index` (once it runs), if it has not exited yet."""
        pid = self.pid(index)
        if not (self.scratch / f"{index}.status").is_file():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def wait(self, timeout: float) -> list[Finished]:
        """Each command's exit status and output, in the order given."""
        deadline = time.monotonic() + timeout
        try:
            while not self.done() and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            with contextlib.suppress(ProcessLookupError):  # what is left of the batch
                os.killpg(self.batch, signal.SIGKILL)
        log = (self.scratch / "batch.log").read_text(encoding="utf-8", errors="replace")
        assert self.done(), f"the commands did not end within {timeout} s:\n{log}"
        status = (self.scratch / "batch.status").read_text(encoding="utf-8")
        assert status == "0", f"the forking interpreter failed:\n{log}"
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


def write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f"{path.name}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.rename(path)


def run_batch(spec_file: Path) -> None:
    """In a forked batch process: each command in a child of its own, statuses as they exit."""
    code = 1
    try:
        gc.enable()  # off in the server while it warmed up; on in a fresh interpreter
        os.setsid()  # a process group of its own, with its children
        scratch = spec_file.parent
        with (scratch / "batch.log").open("w") as log, Path(os.devnull).open() as nothing:
            os.dup2(nothing.fileno(), 0)  # the server's requests are not the commands' input
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
        os.environ.clear()
        os.environ.update(spec["env"])
        os.chdir(spec["cwd"])
        wanted = [p for p in spec["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.path[:0] = [p for p in wanted if p not in sys.path]  # as a fresh interpreter's
        children: dict[int, int] = {}
        for index, command in enumerate(spec["commands"]):
            pid = os.fork()
            if pid == 0:
                run_as_main(command, scratch / str(index))
            children[pid] = index
            write_atomically(scratch / f"{index}.pid", str(pid))
        while children:
            pid, status = os.wait()
            index = children.pop(pid)
            write_atomically(scratch / f"{index}.status", str(os.waitstatus_to_exitcode(status)))
        code = 0
    except BaseException:  # noqa: BLE001 - reported in batch.log, status 1
        sys.excepthook(*sys.exc_info())
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        write_atomically(spec_file.parent / "batch.status", str(code))
        os._exit(code)


def reap(block: bool) -> None:
    """Wait for the batches that ended (every one, if `block`): their CPU time then counts in
    this interpreter's, and so in the test process's that waits for it."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, 0 if block else os.WNOHANG)[0]:
            pass


PROBED = ("main", "capabilities")
"""The service's modules a probe imports: the app factory, and the list of capabilities that
`create_app` imports when it runs (with their clients: the factory alone does not load them)."""


def probed(app: Sequence[str] | None) -> tuple[str, ...]:
    """`PROBED`, or in a session whose app is of some capabilities (`app`, their packages) the
    factory and their `capability` modules alone: what that session's processes import, and
    nothing of the others (a test session's reads, its processes' included, are what the
    matrix keys its result by)."""
    if app is None:
        return PROBED
    return ("main", *(f"{package}.capability" for package in app))


def service_libraries(app: Sequence[str] | None = None) -> list[str]:
    """The modules the service's package loads besides its own, in the order it loads them
    (its capabilities' clients: httpx, redis, cryptography, a broker's ...). A probe child
    imports the package and reports them, so that this interpreter never imports the package
    itself. Each child of a fully featured service imported about 0.4 CPU-s of them anew while
    the probe imported `main` alone.

    The probe also hands back what it compiled of the service's own source files (`COMPILED`):
    each child imports the package afresh, but need not compile the same bytes again."""
    packages = [p.parent.name for p in SOURCES.glob("*/__init__.py")]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        before = set(sys.modules)
        compiled = recording_compiles()
        try:
            for package in packages:
                for module in probed(app):
                    with contextlib.suppress(BaseException):  # what loaded before a failure counts
                        importlib.import_module(f"{package}.{module}")
        finally:
            loaded = [m for m in sys.modules if m not in before and m.split(".")[0] not in packages]
            with os.fdopen(write, "wb") as out:  # every byte, however long the list
                out.write(marshal.dumps((loaded, compiled)))
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as reply:
        answer = reply.read()
    os.waitpid(pid, 0)
    found, compiled = marshal.loads(answer) if answer else ([], [])  # noqa: S302 - our child's
    COMPILED.update(((path, source), code) for path, source, code in compiled)
    return list(found)


COMPILED: dict[tuple[str, bytes], types.CodeType] = {}
"""Code the probe compiled, by source path and the exact source bytes it compiled."""
_compile = importlib.machinery.SourceFileLoader.source_to_code


def recording_compiles() -> list[tuple[str, bytes, types.CodeType]]:
    """In the probe: every service source file the import system compiles, kept as (path,
    source bytes, code) for the server."""
    found: list[tuple[str, bytes, types.CodeType]] = []

    def source_to_code(loader: object, data: bytes, path: str, **options: object) -> object:
        code = _compile(loader, data, path, **options)  # type: ignore[arg-type]
        ours = isinstance(code, types.CodeType) and Path(path).is_relative_to(SOURCES)
        if ours and not options and isinstance(data, bytes):
            found.append((path, data, code))
        return code

    importlib.machinery.SourceFileLoader.source_to_code = source_to_code  # type: ignore[method-assign,assignment]
    return found


def compiled_once(loader: object, data: bytes, path: str, **options: object) -> object:
    """`SourceFileLoader.source_to_code` in the server and its children: the probe's code for
    the very bytes it compiled (a child still reads the file; only the compile is skipped, as a
    `__pycache__` would skip it), else a compile as usual."""
    if not options and isinstance(data, bytes):
        found = COMPILED.get((str(path), data))
        if found is not None:
            return found
    return _compile(loader, data, path, **options)  # type: ignore[arg-type]


def as_fresh_interpreter() -> None:
    """In the server forked from the test process: what `python -P` would have where pytest
    changed it. Each child then imports the service's package, and reads its settings, afresh."""
    sys.stdin, sys.stdout, sys.stderr = sys.__stdin__, sys.__stdout__, sys.__stderr__
    with Path(os.devnull).open() as nothing:
        os.dup2(nothing.fileno(), 0)  # not the test process's input
    added = {os.path.realpath(path) for path in ("", SOURCES.parent)}  # `-m pytest`, rootdir
    sys.path[:] = [path for path in sys.path if path and os.path.realpath(path) not in added]
    sys.meta_path[:] = [finder for finder in sys.meta_path if not is_pytests(finder)]
    sys.path_importer_cache.clear()
    import _warnings  # noqa: PLC0415 - the interpreter's own list, which pytest's context kept

    warnings.filters = _warnings.filters  # type: ignore[assignment]  # the same list
    warnings._filters_mutated()  # type: ignore[attr-defined]
    logging.root.handlers.clear()
    logging.root.setLevel(logging.WARNING)
    faulthandler.cancel_dump_traceback_later()
    if not (os.environ.get("PYTHONFAULTHANDLER") or "faulthandler" in sys._xoptions):
        faulthandler.disable()
    atexit._clear()  # the test process's; logging's is every interpreter's
    atexit.register(logging.shutdown)


def is_pytests(finder: object) -> bool:
    return type(finder).__module__.split(".")[0] in {"_pytest", "pytest"}


def warm_up(app: Sequence[str] | None) -> None:
    """The frameworks and the service's libraries (of the session's app, `app`), imported once
    with the collector off, then frozen."""
    gc.disable()
    for module in FRAMEWORKS:
        importlib.import_module(module)
    for module in service_libraries(app):
        with contextlib.suppress(Exception):  # a module that only its importer can load
            importlib.import_module(module)
    importlib.machinery.SourceFileLoader.source_to_code = compiled_once  # type: ignore[method-assign,assignment]
    gc.freeze()


def serve(requests: Iterable[str], replies: TextIO) -> None:
    """Warm up at the first request, then fork a batch for each; exit once they are reaped."""
    warmed = False
    for line in requests:
        if not warmed:
            warm_up(json.loads(Path(line.strip()).read_text(encoding="utf-8"))["app"])
            warmed = True
        reap(block=False)
        pid = os.fork()
        if pid == 0:
            run_batch(Path(line.strip()))
        replies.write(f"{pid}\n")
        replies.flush()
    reap(block=True)
    replies.flush()
    os._exit(0)


def main() -> None:
    serve(sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
