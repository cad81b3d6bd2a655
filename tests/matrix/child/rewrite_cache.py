"""Imported by a pytest session run once when the shared environment is built
(shared_env.py): every module of the packages that register pytest plugins, so that pytest
writes their assertion-rewritten bytecode next to them.

pytest rewrites the asserts of every module of a plugin's distribution (anyio, hypothesis,
schemathesis here) as it is imported, and the matrix runs with PYTHONDONTWRITEBYTECODE=1; so
without this each session rewrites and compiles them from source again (4 of the 9 CPU-s a
fullest project's collection takes). pytest reads such bytecode even when it may not write it,
and checks it against the source, as Python does.

Standard library and pytest only: this runs inside the generated projects' environment.
"""

import importlib
import pkgutil
from importlib.metadata import Distribution, distributions


def top_level_packages(dist: Distribution) -> list[str]:
    listed = (dist.read_text("top_level.txt") or "").split()
    if listed:
        return listed
    files = [str(f) for f in dist.files or [] if str(f).endswith(".py")]
    return sorted({f.split("/")[0].removesuffix(".py") for f in files if ".dist-info" not in f})


def import_everything(top: str) -> None:
    try:
        package = importlib.import_module(top)
    except Exception:  # an optional part whose dependency is not installed
        return
    paths = getattr(package, "__path__", [])
    for found in pkgutil.walk_packages(paths, f"{top}.", onerror=lambda _: None):
        try:
            importlib.import_module(found.name)
        except Exception:
            continue


for distribution in distributions():
    if any(entry.group == "pytest11" for entry in distribution.entry_points):
        for name in top_level_packages(distribution):
            import_everything(name)
