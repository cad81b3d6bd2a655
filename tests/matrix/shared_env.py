"""One virtual environment holding every generated project's dependencies, built once and cached.

Each combination then costs seconds: its tests run with this interpreter and ``PYTHONPATH=src``
instead of a fresh ``uv sync``. The environment is rebuilt only when the dependency set changes.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import tomllib
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"


def requirements(projects: Iterable[Path]) -> list[str]:
    """The union of runtime and dev dependencies declared by the rendered projects."""
    found: set[str] = set()
    for project in projects:
        data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
        found.update(data["project"].get("dependencies", []))
        for group in data.get("dependency-groups", {}).values():
            found.update(item for item in group if isinstance(item, str))
    return sorted(found)


def shared_python(projects: Iterable[Path]) -> Path:
    """Return the interpreter of an environment with every requirement, building it if needed."""
    wanted = requirements(projects)
    digest = hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:16]
    venv = CACHE / "generated-venv"
    python = venv / "bin" / "python"
    CACHE.mkdir(exist_ok=True)
    with (CACHE / "generated-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers: one builds, the others wait
        stamp = venv / "requirements.sha"
        if stamp.is_file() and stamp.read_text() == digest and python.is_file():
            return python
        uv = shutil.which("uv")
        assert uv, "uv is needed to build the shared environment (scripts/test installs it)"
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([uv, "venv", "--quiet", "--python", "3.11", str(venv)], check=True)
        subprocess.run(
            [uv, "pip", "install", "--quiet", "--python", str(python), *wanted], check=True
        )
        stamp.write_text(digest)
    return python
