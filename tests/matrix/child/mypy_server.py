"""A warm mypy for one matrix worker: it imports mypy and the plugins a project names once, and
then forks a child per check, which runs exactly what `python -m mypy` runs
(``mypy.__main__.console_entry``) from that pristine, imported state and exits with its code.
Nothing of a check is left in the server for the next one: each is a fresh process, with its own
arguments, working folder, configuration, cache reads and module search.

Runs with the shared environment's interpreter (the one whose mypy the command would run). It
ends when its stdin does (its worker closed it, or died in any way), after the check in progress.

Protocol: ``forked_runs.py``.
Usage: python mypy_server.py [MODULE...]  (modules to import before the first check, e.g. a
plugin: ``pydantic.mypy``; one that fails to import is left to the check, which reports it).
"""

from __future__ import annotations

import gc
import importlib
import os
import sqlite3  # noqa: F401  (what a run imports after these: the cache's database)
import sys
import sysconfig
from typing import TYPE_CHECKING

import mypy.__main__
import mypy.build
import mypy.checker
import mypy.main

if TYPE_CHECKING:
    from tests.matrix.child.forked_runs import serve
else:  # run as a script, beside it
    from forked_runs import serve


def warm(modules: list[str]) -> None:
    sysconfig.get_paths()  # the interpreter's own paths, which a run asks for (site-packages)
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # the check imports it again and reports the error as mypy does
            continue


def mypy_run(arguments: list[str]) -> int:
    """As `python -m mypy ARGUMENTS` in the working folder makes it."""
    sys.path[0] = os.getcwd()  # where `python -m` puts it (this script's folder here)
    mypy.__main__.console_entry()
    return 0


def main(modules: list[str]) -> None:
    warm(modules)
    gc.freeze()  # a run's collections skip the imported objects (and leave their pages shared)
    serve("mypy", mypy_run)


if __name__ == "__main__":
    main(sys.argv[1:])
