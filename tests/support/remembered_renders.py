"""Copier's render of a (template, answers, version, options) seen before, copied from where
it was kept the first time: for tests about what scaffold does with renders (updates, merges,
capability changes), not about rendering. Copier still renders each one once, and what is
copied is exactly what it rendered, so a test sees the same files, only sooner.

Only for templates whose tags and files no longer change: ``templates`` names them (their
absolute paths, as scaffold hands them to Copier); a render of any other template, or into a
folder that is not empty (where Copier would merge), is Copier's own every time.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from scaffold.render import ANSWERS_FILE


@dataclass
class RenderMemory:
    store: Path
    templates: set[str] | None = None
    """The templates it remembers renders of; None: every one."""
    kept: dict[str, tuple[Path, str]] = field(default_factory=dict)
    """Key -> the kept render and its answers file."""

    def remember(self, template: Path) -> None:
        """Remember renders of ``template`` from now on: its tags and files are final."""
        assert self.templates is not None, "this memory remembers every template already"
        self.templates.add(str(template.resolve()))

    def remembers(self, src_path: str, dst_path: Any) -> bool:
        known = self.templates is None or str(src_path) in self.templates
        destination = Path(dst_path)
        return known and not (destination.exists() and any(destination.iterdir()))

    @contextmanager
    def in_use(self) -> Iterator[None]:
        """copier.run_copy remembers, until the block ends."""
        import copier

        real = copier.run_copy

        def run_copy(src_path: str, dst_path: Any, data: Any = None, **options: Any) -> Any:
            if not self.remembers(src_path, dst_path):
                return real(src_path, dst_path, data, **options)
            key = json.dumps([src_path, data, options], sort_keys=True, default=str)
            if key not in self.kept:
                worker = real(src_path, dst_path, data, **options)
                folder = self.store / str(len(self.kept))
                shutil.copytree(dst_path, folder, symlinks=True)
                answers = str(getattr(worker, "answers_relpath", ANSWERS_FILE))
                self.kept[key] = (folder, answers)
                return worker
            folder, answers_file = self.kept[key]
            shutil.copytree(folder, dst_path, symlinks=True, dirs_exist_ok=True)
            return SimpleNamespace(answers_relpath=Path(answers_file))

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(copier, "run_copy", run_copy)
            yield


@contextmanager
def remembered_renders(store: Path) -> Iterator[None]:
    """Every render remembered, for a block where no template's tags or files change."""
    with RenderMemory(store).in_use():
        yield
