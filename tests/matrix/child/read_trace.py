"""What a process read below one folder: the inputs a reused runtime result must be keyed by.

Installed in a fork-server child before it runs anything (see zygote_server): an audit hook
(PEP 578) sees every file opened (imports included, through ``io.open_code``) and every folder
listed (``os.listdir``/``os.scandir``, which the import system uses to find modules), and
``os.stat``/``os.lstat`` are wrapped to see existence probes (``Path.exists``, ``is_file`` …),
which raise no audit event. Paths are recorded relative to the folder.

A run that writes into the folder cannot be keyed by its reads: it is recorded, and such a
run's result is never reused. A run that starts other processes is keyed by their reads too,
when every one of them is traced (``children`` is the folder of their records):
- a forked child (``os.fork``) inherits the trace; from the fork on, it records its own reads
  (``_forked``, at fork time, before it runs anything);
- a Python program started by ``subprocess``/``os.posix_spawn`` (the reshard command, a worker,
  ``python -c``) finds ``ENVIRONMENT`` in its environment, and the shared environment's start-up
  file (``START_LINE``, a ``.pth`` in its site-packages) installs a trace in it before it runs
  anything (``start_child``);
- any other program started by ``subprocess`` (Prometheus, promtool, a shell) is run under
  ``strace -D -f``: its record names strace's output, which child_records.py reads (every
  file it and the programs it starts opened, listed, stat'ed or changed, each of those
  processes having ended).
A child's record is streamed: each path is appended to its file before the read it records
happens, so a child that dies in any way, SIGKILL included, has recorded every read it did.
Every traced process counts the processes it starts (``created``: the audit events
``subprocess.Popen``, ``os.posix_spawn`` outside a Popen, ``os.fork``, ``os.forkpty``,
``os.system``, and ``_posixsubprocess.fork_exec`` called directly, as multiprocessing does),
and every child's record names its parent's process id. The run is keyed by its reads only when
each process's count equals the number of records naming it as their parent
(child_records.py): a Python started with an environment without ``ENVIRONMENT`` or with
``-S``, the shell of ``os.system``, a binary started by ``os.posix_spawn`` leave no record,
and the run is never reused. A process that replaces itself (``os.exec*``) is recorded as
untraceable. What strace shows of a file that is only stat'ed is its kind, as for a probe: a
program that branched on a file's size or mtime without reading it would escape this.

Imports are keyed precisely, not by whole folders. The import system's ``FileFinder`` lists a
folder once to fill its cache, then answers each ``find_spec(fullname)`` from that cache: with
``tail`` the last part of the name, the answer depends only on whether ``tail`` and ``tail +
suffix`` (for each of the finder's loader suffixes) are among the folder's names, on
``tail/__init__ + suffix`` being a file and ``tail`` a folder (stats done on those hits), and
then on the bytes of the file it finds (opened, so recorded as a read). Every other name in
the folder cannot change the answer. So the listing made while a finder fills its cache is not
recorded; each lookup records instead, as probes, every one of those paths: the manifest keys
a probe by what is there (absent, file, folder: ``path_kind``), which is exactly the
membership and the stats the lookup used. Likewise the folder a finder is made for (its path
hook checks that it is a folder) is recorded as a probe. The cache can only be stale for names
created after it was filled, which a run that writes into the project does (never reused).
Listings made by anything else (pytest collecting a folder, ``pkgutil.iter_modules``, the
tests' own code) are keyed by all the names in the folder. On a case-insensitive platform the
finder matches names by another rule; there, its listings are recorded whole as well.

Standard library only: this runs inside the generated project's environment.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

CREATING = frozenset({"os.fork", "os.forkpty", "os.system"})
"""Audit events of a process being started (besides ``subprocess.Popen``/``os.posix_spawn``)."""
REPLACING = frozenset({"os.exec", "os.spawn"})
"""A process replacing itself by another program (``os.spawn``: Windows), unseen."""
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
CASE_INSENSITIVE = sys.platform.startswith(("win", "cygwin", "darwin"))
ENVIRONMENT = "SCAFFOLD_READ_TRACE"
"""In a traced run's environment: JSON ``{"root", "children", "module"}`` for its children."""
START_LINE = (
    'import os; "SCAFFOLD_READ_TRACE" in os.environ and __import__("runpy").run_path('
    '__import__("json").loads(os.environ["SCAFFOLD_READ_TRACE"])["module"], '
    'run_name="read_trace_child")\n'
)
"""The ``.pth`` line of the shared environment that traces a Python child (shared_env.py)."""
KINDS = ("opened", "listed", "probed", "written", "viewed")
ACTIVE: list[ReadTrace] = []
"""The trace installed in this process (one at most), for the pytest plugin that keys pytest's
own listings as views (``narrow_collect``)."""


class ReadTrace:
    def __init__(self, root: str, children: str | None = None, strace: str | None = None) -> None:
        self.root = os.path.realpath(root)
        self.children = children
        """The folder of the child processes' records; None: children are not traced."""
        self.strace = strace
        """A strace that works here (``working_strace``); None: binaries are not traced."""
        self.opened: set[str] = set()
        self.listed: set[str] = set()
        self.probed: set[str] = set()
        self.written: set[str] = set()
        self.viewed: set[str] = set()
        """Folders pytest listed, each keyed by the names it could collect (``view``)."""
        self.created = 0
        """Processes this one started."""
        self.untraceable: list[str] = []
        self.errors: list[str] = []
        self.pid = os.getpid()
        self.record: str | None = None
        """This process's streamed record, in a child; None in the run's own process."""
        self._filling: set[int] = set()
        """Threads inside a FileFinder filling its cache: their listing is not recorded."""
        self._popen = threading.local()
        """Set in a thread between its Popen event and the process it starts."""
        self._at = threading.local()
        """Set in a thread inside ``os.open`` with a ``dir_fd``: the path it opens, resolved."""
        self._views: dict[int, tuple[str, str]] = {}
        """Per thread, the folder whose next listing is a view, and the view's record."""

    def install(self) -> None:
        import _posixsubprocess
        import subprocess  # bound its own fork_exec: only multiprocessing's is seen

        ACTIVE[:] = [self]
        sys.addaudithook(self._audit)
        os.stat = self._probing(os.stat)
        os.lstat = self._probing(os.lstat)
        os.open = self._opening(os.open)
        fork_exec: Any = _posixsubprocess.fork_exec
        trace = self

        def counted(*args: Any, **kwargs: Any) -> Any:
            trace._started("fork_exec")
            return fork_exec(*args, **kwargs)

        _posixsubprocess.fork_exec = counted
        if self.children is not None and self.strace and hasattr(subprocess, "_fork_exec"):
            subprocess._fork_exec = self._tracing_binaries(subprocess._fork_exec)
        os.register_at_fork(after_in_child=self._forked)
        if not CASE_INSENSITIVE:
            self._trace_imports()

    def _tracing_binaries(self, fork_exec: Callable[..., int]) -> Callable[..., int]:
        """subprocess's ``fork_exec``, starting a program that is not this Python under
        ``strace`` (``-D``: the program keeps the process id and is the parent's child, its
        signals and exit status its own); the record names strace's output (``strace_reads``).
        The trace is taken out of its environment: strace sees the Python it may start too."""
        trace = self

        def exec_traced(
            args: list[Any], executables: tuple[bytes, ...], close_fds: bool, keep: Any,
            cwd: Any, env: list[bytes] | None, *rest: Any,
        ) -> int:  # fmt: skip
            program, strace = _executable(executables), os.fsencode(trace.strace or "")
            if program is None or _is_python(program):
                return fork_exec(args, executables, close_fds, keep, cwd, env, *rest)
            assert trace.children is not None
            output = os.path.join(trace.children, f"strace-{os.urandom(6).hex()}.txt")
            command = [strace, *STRACE, "-o", output, "--", program, *args[1:]]
            mine = ENVIRONMENT.encode() + b"="
            env = [e for e in env if not e.startswith(mine)] if env is not None else [
                os.fsencode(k) + b"=" + os.fsencode(v) for k, v in os.environ.items()
                if k != ENVIRONMENT
            ]  # fmt: skip
            pid = fork_exec(command, (strace,), close_fds, keep, cwd, env, *rest)
            name = os.path.join(trace.children, f"{pid}-{os.urandom(6).hex()}.jsonl")
            start = {"pid": pid, "ppid": trace.pid, "start": "strace", "strace": output,
                     "root": trace.root}  # fmt: skip
            with open(name, "w", encoding="utf-8") as record:
                record.write(json.dumps(start) + "\n")
            return pid

        return exec_traced

    def propagate(self) -> None:
        """Put the trace in this process's environment, for the programs it starts."""
        assert self.children is not None
        os.makedirs(self.children, exist_ok=True)
        spec = {"root": self.root, "children": self.children, "strace": self.strace,
                "module": os.path.abspath(__file__)}  # fmt: skip
        os.environ[ENVIRONMENT] = json.dumps(spec)

    def begin(self, ppid: int, how: str) -> None:
        """Record from now on, streamed, as a child of process ``ppid``."""
        assert self.children is not None
        self.pid = os.getpid()
        name = f"{self.pid}-{os.urandom(6).hex()}.jsonl"
        self.record = os.path.join(self.children, name)
        self._stream({"pid": self.pid, "ppid": ppid, "start": how})

    def _forked(self) -> None:
        parent = self.pid
        for kind in KINDS:
            getattr(self, kind).clear()
        self.created = 0
        self.untraceable.clear()
        self.errors.clear()
        self._popen = threading.local()
        self._filling &= {threading.get_ident()}
        self._views.clear()
        self._at = threading.local()
        if self.children is None:
            self.record = None  # unrecorded: the parent's count of children tells
            return
        self.begin(parent, "fork")

    def _stream(self, item: Any) -> None:
        """Append one line to this child's record. Opened, written and closed each time: the
        program may close or reuse any descriptor (a daemon closes them all)."""
        if self.record is None:
            return
        line = (json.dumps(item) + "\n").encode()
        handle = os.open(self.record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(handle, line)
        finally:
            os.close(handle)

    def _note(self, kind: str, relative: str) -> None:
        found: set[str] = getattr(self, kind)
        if relative not in found:
            found.add(relative)
            self._stream([kind, relative])

    def _error(self, text: str) -> None:
        self.errors.append(text)
        self._stream(["errors", text])

    def _started(self, how: str) -> None:
        self.created += 1
        self._stream(["created", how])

    def view(self, folder: str, ignored: list[str], patterns: list[str]) -> bool:
        """Record this thread's next listing of ``folder`` as a view: the names in it less those
        whose path (``folder/name``) is one of ``ignored`` or matches one of ``patterns``
        (``fnmatch``), all paths absolute; False (the listing is then recorded whole) when any
        of those lies outside the folder traced. For pytest's own listing of a folder when the
        names a run's ``--ignore``/``--ignore-glob`` leave out are never collected: another
        name there, or one of them appearing, changes nothing the run does
        (``narrow_collect``). ``reuse.TreeStates.view_token`` keys it."""
        relative = self._relative(folder)
        rules = [self._relative(path) for path in ignored]
        globs = [self._relative(pattern) for pattern in patterns]
        if relative is None or None in rules or None in globs or any(c in self.root for c in "*?["):
            return False
        absolute = os.path.normpath(os.path.join(os.getcwd(), folder))
        self._views[threading.get_ident()] = (absolute, json.dumps([relative, rules, globs]))
        return True

    def _viewed(self, folder: str) -> bool:
        """This listing is the view announced for it (``view``): recorded as such, once."""
        pending = self._views.get(threading.get_ident())
        if pending is None or os.path.normpath(os.path.join(os.getcwd(), folder)) != pending[0]:
            return False
        del self._views[threading.get_ident()]
        self._note("viewed", pending[1])
        return True

    def _trace_imports(self) -> None:
        finder: Any = importlib.machinery.FileFinder
        fill_cache, find_spec = finder._fill_cache, finder.find_spec
        trace = self

        def filling(self: Any) -> None:
            trace._filling.add(threading.get_ident())
            try:
                fill_cache(self)
            finally:
                trace._filling.discard(threading.get_ident())

        def looking_up(self: Any, fullname: str, target: Any = None) -> Any:
            trace._looked_up(self.path or os.getcwd(), fullname, [s for s, _ in self._loaders])
            return find_spec(self, fullname, target)

        finder._fill_cache = filling
        finder.find_spec = looking_up
        sys.path_hooks[:] = [self._hooking(hook) for hook in sys.path_hooks]

    def _looked_up(self, folder: str, fullname: str, suffixes: list[str]) -> None:
        """The paths a FileFinder's answer for ``fullname`` depends on, as probes."""
        try:
            tail = fullname.rpartition(".")[2]
            names = [tail, *(tail + s for s in suffixes)]
            names += [os.path.join(tail, "__init__" + s) for s in suffixes]
            for name in names:
                relative = self._relative(os.path.join(folder, name))
                if relative is not None:
                    self._note("probed", relative)
        except Exception as error:
            self._error(f"find_spec: {error!r}")

    def _hooking(self, hook: Callable[[str], Any]) -> Callable[[str], Any]:
        """FileFinder's path hook accepts only a folder: whether there is one is an input."""
        if not getattr(hook, "__qualname__", "").startswith("FileFinder.path_hook"):
            return hook

        def checked(path: str) -> Any:
            relative = self._relative(path or os.getcwd())
            if relative is not None:
                self._note("probed", relative)
            return hook(path)

        return checked

    def _relative(self, path: Any) -> str | None:
        if isinstance(path, int) or path is None:
            return None
        text = os.fsdecode(os.fspath(path))
        absolute = os.path.normpath(os.path.join(os.getcwd(), text))
        if absolute == self.root:
            return "."
        if absolute.startswith(self.root + os.sep):
            return absolute[len(self.root) + 1 :]
        return None

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        try:
            if event == "open":
                resolved = getattr(self._at, "path", None)  # os.open relative to a dir_fd
                relative = self._relative(args[0] if resolved is None else resolved)
                if relative is not None:
                    mode, flags = args[1], args[2]
                    writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                        isinstance(flags, int) and flags & WRITE_FLAGS
                    )
                    self._note("written" if writes else "opened", relative)
            elif event in ("os.listdir", "os.scandir"):
                self._listing(args[0] if args[0] is not None else ".")
            elif event == "subprocess.Popen":
                self._popen.active = True
                self._started(event)
            elif event == "os.posix_spawn":
                if getattr(self._popen, "active", False):
                    self._popen.active = False  # the Popen's own process, counted already
                else:
                    self._started(event)
            elif event in CREATING:
                self._started(event)
            elif event in REPLACING:
                self.untraceable.append(event)
                self._stream(["untraceable", event])
        except Exception as error:  # an audit hook that raises would break the traced call
            self._error(f"{event}: {error!r}")

    def _listing(self, folder: Any) -> None:
        if threading.get_ident() in self._filling:
            return  # keyed per lookup instead (_looked_up)
        if self._views and not isinstance(folder, int) and self._viewed(os.fsdecode(folder)):
            return
        relative = self._relative(folder)
        if relative is not None:
            self._note("listed", relative)

    def _at_folder(self, path: Any, dir_fd: int | None) -> Any:
        """The path a call with ``dir_fd`` names (shutil.rmtree's, relative to a folder's
        descriptor, not to the working folder): the folder's path from /proc joined with it."""
        if dir_fd is None or isinstance(path, int) or os.path.isabs(os.fsdecode(path)):
            return path
        return os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), os.fsdecode(path))

    def _opening(self, real: Callable[..., int]) -> Callable[..., int]:
        """``os.open``, its path resolved for the audit hook when it is relative to a
        ``dir_fd`` (the event names only the relative path)."""

        def opening(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
            if dir_fd is None:
                return real(path, flags, mode)
            try:
                self._at.path = self._at_folder(path, dir_fd)
            except Exception as error:
                self._error(f"open at a folder descriptor: {error!r}")
            try:
                return real(path, flags, mode, dir_fd=dir_fd)
            finally:
                self._at.path = None

        return opening

    def _probing(self, real: Callable[..., os.stat_result]) -> Callable[..., os.stat_result]:
        def probe(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
            try:
                relative = self._relative(self._at_folder(path, kwargs.get("dir_fd")))
                if relative is not None:
                    self._note("probed", relative)
            except Exception as error:
                self._error(f"stat: {error!r}")
            return real(path, *args, **kwargs)

        return probe

    def write(self, target: Path) -> None:
        """The run's own process's record (a child's is streamed: in a forked child of the
        run's process, this does nothing)."""
        if self.record is not None:
            return
        data = {
            "pid": self.pid,
            "opened": sorted(self.opened),
            "listed": sorted(self.listed),
            "probed": sorted(self.probed - self.opened),
            "written": sorted(self.written),
            "viewed": sorted(self.viewed),
            "created": self.created,
            "untraceable": self.untraceable,
            "errors": self.errors,
            "children": self.children,
        }
        target.write_text(json.dumps(data), encoding="utf-8")


def start_child() -> None:
    """In a Python program started by a traced process (``START_LINE``): trace it, once (the
    environment's site-packages may be seen twice, as ``lib`` and its alias ``lib64``). The
    module stays loaded under its own name, which marks it started."""
    if "scaffold_read_trace" in sys.modules:
        return
    sys.modules["scaffold_read_trace"] = sys.modules["read_trace_child"]
    spec = json.loads(os.environ[ENVIRONMENT])
    trace = ReadTrace(spec["root"], spec["children"], spec.get("strace"))
    trace.begin(os.getppid(), "exec")
    trace.install()


STRACE = ("-D", "-f", "-q", "-y", "-s", "65535", "--seccomp-bpf",
          "-e", "trace=%file,getdents,getdents64,fchdir")  # fmt: skip
"""strace's options: follow every process it starts, decorate each descriptor with its path
(``AT_FDCWD</cwd>`` too), whole strings, only the calls that name a file or list a folder."""


def working_strace() -> str | None:
    """strace, if it is installed and may trace here (ptrace can be denied: in a container
    without the capability strace would fail to start the program; its binaries then stay
    untraced, and their runs are not reused)."""
    import subprocess

    found = _executable(tuple(os.path.join(os.fsencode(f), b"strace") for f in os.get_exec_path()))
    if found is None:
        return None
    probe = [os.fsdecode(found), *STRACE, "-o", os.devnull, "--", "/bin/sh", "-c", "exit 3"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return os.fsdecode(found) if done.returncode == 3 and not done.stderr else None


def _executable(candidates: tuple[bytes, ...]) -> bytes | None:
    """The file ``execve`` would run, of the candidates (subprocess's search of PATH)."""
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _is_python(program: bytes) -> bool:
    """This interpreter, or a script it runs (``#!`` ... ``python``): traced at its start-up."""
    if os.path.realpath(program) == os.path.realpath(os.fsencode(sys.executable)):
        return True
    with open(program, "rb") as head:
        first = head.readline(256)
    return first.startswith(b"#!") and b"python" in first


if __name__ == "read_trace_child":
    start_child()
