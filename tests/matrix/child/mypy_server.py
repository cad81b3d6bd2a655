"""A warm mypy for one matrix worker: it imports mypy and the plugins a project names once, and
then forks a child per check, which runs exactly what `python -m mypy` runs
(``mypy.__main__.console_entry``) from that pristine, imported state and exits with its code.
Nothing of a check is left in the server for the next one: each is a fresh process, with its own
arguments, working folder, configuration, cache reads and module search.

Runs with the shared environment's interpreter (the one whose mypy the command would run). It
ends when its stdin does (its worker closed it, or died in any way), after the check in progress.

Protocol: one JSON object per line on stdin, one reply per line on stdout; "ready" first.
  {"args": [...], "cwd": DIR, "output": FILE}  ->  {"exit": CODE, "cpu": SECONDS}
(the check's CPU seconds: the server reaps it, so its client's rusage never sees them).
Usage: python mypy_server.py [MODULE...]  (modules to import before the first check, e.g. a
plugin: ``pydantic.mypy``; one that fails to import is left to the check, which reports it).
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import sqlite3  # noqa: F401  (what a run imports after these: the cache's database)
import sys
import sysconfig

import mypy.__main__
import mypy.build
import mypy.checker
import mypy.main


def warm(modules: list[str]) -> None:
    sysconfig.get_paths()  # the interpreter's own paths, which a run asks for (site-packages)
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # the check imports it again and reports the error as mypy does
            continue


def check(arguments: list[str], cwd: str, output: str) -> tuple[int, float]:
    pid = os.fork()
    if pid == 0:  # the child: one mypy run, as `python -m mypy ARGUMENTS` in cwd makes it
        code = 70
        try:
            descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(descriptor, 1)
            os.dup2(descriptor, 2)
            os.chdir(cwd)
            sys.path[0] = os.getcwd()  # where `python -m` puts it (this script's folder here)
            sys.argv = ["mypy", *arguments]
            mypy.__main__.console_entry()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException as error:
            print(f"mypy_server: {type(error).__name__}: {error}", file=sys.stderr)
            code = 70
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def main(modules: list[str]) -> None:
    warm(modules)
    gc.freeze()  # a run's collections skip the imported objects (and leave their pages shared)
    print(json.dumps("ready"), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        code, cpu = check(list(request["args"]), request["cwd"], request["output"])
        print(json.dumps({"exit": code, "cpu": round(cpu, 3)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
