"""Render generated projects for benchmarks and end-to-end tests, with the matrix's shared env."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from scaffold.commands.new import NewOptions, create_project
from scaffold.selection import Request
from tests.matrix.shared_env import shared_python


def render(
    name: str,
    folder: Path,
    capabilities: tuple[str, ...],
    variants: Mapping[str, str] | None = None,
) -> Path:
    """A project rendered through `scaffold new`'s code path, without git."""
    request = Request(with_=capabilities, variants=dict(variants or {}))
    return create_project(NewOptions(name, folder, request, git=False, lock=False)).target


def shared_interpreter(scratch: Path | None = None) -> Path:
    """The shared interpreter holding every combination's dependencies (the matrix's own)."""
    return shared_python()


def project_and_python(
    scratch: Path,
    name: str,
    capabilities: tuple[str, ...],
    variants: Mapping[str, str] | None = None,
) -> tuple[Path, Path]:
    """The project, and the shared interpreter holding every combination's dependencies."""
    return render(name, scratch, capabilities, variants), shared_interpreter()
