"""A warm mypy for one matrix worker: it imports mypy and the plugins a project names once, and
then forks a child per check, which runs exactly what `python -m mypy` runs
(``mypy.__main__.console_entry``) from that pristine, imported state and exits with its code.
Nothing of a check is left in the server for the next one: each is a fresh process, with its own
arguments, working folder, configuration, cache reads and module search.

Runs with the shared environment's interpreter (the one whose mypy the command would run). It
ends when its stdin does (its worker closed it, or died in any way), after the check in progress.

A check collects no cyclic garbage: mypy's own thresholds (200,000 allocations) still had the
collector traverse the run's young objects over and over (about a tenth of a check's CPU), while
what a check leaves in cycles is a few megabytes of a run of 200-300 MB that ends with the check.
Collecting changes nothing mypy computes or prints (nothing it does waits for a finaliser), only
when memory is reclaimed. ``SCAFFOLD_MATRIX_MYPY_GC=1`` leaves the collector as mypy sets it.

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


GC_VARIABLE = "SCAFFOLD_MATRIX_MYPY_GC"


def without_collections() -> None:
    """No cyclic collection in this process (a forked check), even where mypy turns it back on
    (it enables the collector after loading the graph and each batch of cached modules, and sets
    its own thresholds)."""
    gc.disable()
    setattr(gc, "enable", lambda: None)  # noqa: B010  (mypy: no assigning to a function)
    setattr(gc, "set_threshold", lambda *thresholds: None)  # noqa: B010


def mypy_run(arguments: list[str]) -> int:
    """As `python -m mypy ARGUMENTS` in the working folder makes it."""
    if os.environ.get(GC_VARIABLE, "0") != "1":
        without_collections()
    sys.path[0] = os.getcwd()  # where `python -m` puts it (this script's folder here)
    mypy.__main__.console_entry()
    return 0


def main(modules: list[str]) -> None:
    warm(modules)
    gc.freeze()  # a run's collections skip the imported objects (and leave their pages shared)
    serve("mypy", mypy_run)


if __name__ == "__main__":
    main(sys.argv[1:])
