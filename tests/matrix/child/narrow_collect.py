"""pytest plugin (``-p narrow_collect``): a folder that only leads to the session's command-line
paths is collected without being listed.

pytest collects every parent of a command-line path on the way to it, listing each one: a run
of ``tests/integration/<package>`` lists ``tests/integration/`` and so reads the names of every
other capability's test folder there, which makes its reads differ between combinations. Such a
folder here yields only the entries leading to the paths (and a package's ``__init__.py``), as
pytest would have kept them; a folder that is a command-line path or lies below one is
collected as usual. Only which folders are listed changes, never which tests run.

A folder that is collected as usual is listed through a view when the run is traced
(child/read_trace.py): the listing is keyed by the names in it less those the run's
``--ignore``/``--ignore-glob`` leave out, which pytest never collects (the service group ignores
every capability's test folders, so ``tests/unit/`` is keyed alike with or without CI/CD's
``release/``). Only when nothing else can decide what pytest ignores: every
``pytest_ignore_collect`` hook registered is pytest's own or Hypothesis's (which ignores only a
``.hypothesis`` folder), and no command-line path is, or lies below, a path left out (pytest
collects those anyway). Else the listing is recorded whole.

Standard library and pytest only: this runs inside the generated project's environment.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

IGNORING_PLUGINS = frozenset({"_pytest.main", "_hypothesis_pytestplugin"})
"""The modules whose ``pytest_ignore_collect`` a view relies on: pytest's own (``--ignore``,
``--ignore-glob``; what else it ignores stays in the view) and Hypothesis's (None, or True for
a ``.hypothesis`` folder: it never makes pytest collect a path left out)."""
TRACE_MODULES = ("read_trace", "scaffold_read_trace")
"""Where the trace's module is, in a fork-server child and in a started Python."""


def _targets(config: pytest.Config) -> list[Path]:
    here = config.invocation_params.dir
    return [(here / str(argument).split("::", 1)[0]).resolve() for argument in config.args]


def _toward(folder: Path, targets: list[Path]) -> list[Path] | None:
    """The entries of `folder` leading to the targets below it; None when a target is the
    folder or above it (collected whole), or none lies below it."""
    entries: set[Path] = set()
    for target in targets:
        if target == folder or target in folder.parents:
            return None
        if folder in target.parents:
            entries.add(folder / target.relative_to(folder).parts[0])
    if not entries:
        return None
    return sorted(entries, key=lambda path: (path.name != "__init__.py", path.name))


def _collect(collector: pytest.Collector) -> Iterable[pytest.Item | pytest.Collector]:
    entries = _toward(collector.path, _targets(collector.config)) or []
    init = collector.path / "__init__.py"
    if isinstance(collector, pytest.Package) and init.is_file() and init not in entries:
        entries.insert(0, init)
    for path in entries:
        if path.is_dir():
            found = collector.ihook.pytest_collect_directory(path=path, parent=collector)
            if found is not None:
                yield found
        elif path.is_file():
            yield from collector.ihook.pytest_collect_file(file_path=path, parent=collector)


def _trace() -> Any:
    for name in TRACE_MODULES:
        active = getattr(sys.modules.get(name), "ACTIVE", None)
        if active:
            return active[0]
    return None


def _left_out(config: pytest.Config) -> tuple[list[str], list[str]] | None:
    """The paths and patterns the command line leaves out (absolute, as pytest makes them), or
    None when a view would not be safe (see the module's docstring)."""
    for impl in config.hook.pytest_ignore_collect.get_hookimpls():
        if getattr(impl.plugin, "__name__", None) not in IGNORING_PLUGINS:
            return None
    ignored = [os.path.abspath(str(p)) for p in config.getoption("ignore") or ()]
    patterns = [os.path.abspath(str(p)) for p in config.getoption("ignore_glob") or ()]
    for target in _targets(config):
        for path in (target, *target.parents):
            text = str(path)
            if text in ignored or any(fnmatch.fnmatch(text, p) for p in patterns):
                return None
    return ignored, patterns


def _viewed(collector: pytest.Collector) -> None:
    """Announce the folder's next listing (pytest's, in ``collect``) as a view, if traced."""
    trace = _trace()
    left_out = _left_out(collector.config) if trace is not None else None
    if left_out is not None:
        trace.view(str(collector.path), *left_out)


class ViewedPackage(pytest.Package):
    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        _viewed(self)
        return super().collect()


class ViewedDir(pytest.Dir):  # type: ignore[misc]  # final for typing only: pytest's own collect
    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        _viewed(self)
        return super().collect()


class NarrowPackage(pytest.Package):
    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        return _collect(self)


class NarrowDir(pytest.Directory):
    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        return _collect(self)


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _toward(path, _targets(parent.config)) is None:
        if _trace() is None:
            return None
        viewed = ViewedPackage if (path / "__init__.py").is_file() else ViewedDir
        return viewed.from_parent(parent, path=path)
    if (path / "__init__.py").is_file():
        return NarrowPackage.from_parent(parent, path=path)
    return NarrowDir.from_parent(parent, path=path)
