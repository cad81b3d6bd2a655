"""pytest plugin (``-p narrow_collect``): a folder that only leads to the session's command-line
paths is collected without being listed.

pytest collects every parent of a command-line path on the way to it, listing each one: a run
of ``tests/integration/<package>`` lists ``tests/integration/`` and so reads the names of every
other capability's test folder there, which makes its reads differ between combinations. Such a
folder here yields only the entries leading to the paths (and a package's ``__init__.py``), as
pytest would have kept them; a folder that is a command-line path or lies below one is
collected as usual. Only which folders are listed changes, never which tests run.

Standard library and pytest only: this runs inside the generated project's environment.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest


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


class NarrowPackage(pytest.Package):
    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        return _collect(self)


class NarrowDir(pytest.Directory):
    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        return _collect(self)


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _toward(path, _targets(parent.config)) is None:
        return None
    if (path / "__init__.py").is_file():
        return NarrowPackage.from_parent(parent, path=path)
    return NarrowDir.from_parent(parent, path=path)
