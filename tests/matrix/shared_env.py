"""One virtual environment holding every generated project's dependencies, built once and cached.

Each combination then costs seconds: its tests run with this interpreter and ``PYTHONPATH=src``
instead of a fresh ``uv sync``. The environment is rebuilt only when the dependency set changes,
and its packages are compiled to bytecode once, at install time: the matrix runs the generated
code with ``PYTHONDONTWRITEBYTECODE=1``, so without this every process would compile FastAPI,
SQLAlchemy, pydantic … from source again. The same goes for pytest's assertion-rewritten
bytecode of the packages that register pytest plugins (``write_rewritten_bytecode``).

The dependency set is the union over the pairwise combinations (which cover every capability and
variant), read from their rendered ``pyproject.toml`` alone. It is cached under a key made of the
whole template's content, the catalog and the Copier version, so an unchanged template costs no
rendering at all. Each combination still checks that its own dependencies are in the set
(``missing_requirements``): a set that missed one fails loudly, never silently.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import tomllib
import warnings
from importlib.metadata import version
from pathlib import Path

from scaffold.catalog import CATALOG
from scaffold.matrix import pairwise
from scaffold.template_source import resolve_template
from tests.matrix.child.read_trace import START_LINE
from tests.matrix.content import tree_digest

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
VENV = CACHE / "generated-venv"
LAYOUT = "bytecode-compiled-2"
"""Changes when the way the environment is built changes, so that old ones are rebuilt."""


def requirements_of(project: Path) -> set[str]:
    """The runtime and dev dependencies one rendered project declares."""
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    found = set(data["project"].get("dependencies", []))
    for group in data.get("dependency-groups", {}).values():
        found.update(item for item in group if isinstance(item, str))
    return found


def union_of_requirements(template: str | None) -> list[str]:
    """Every dependency any combination declares, cached by the content of what decides it."""
    source = resolve_template(template)
    key = hashlib.sha256(
        json.dumps(
            [
                tree_digest(Path(source.location)),
                repr(CATALOG),
                version("copier"),
                [s.label() for s in pairwise()],
            ]
        ).encode()
    ).hexdigest()[:16]
    cached = CACHE / "requirements" / f"{key}.json"
    if cached.is_file():
        loaded: list[str] = json.loads(cached.read_text(encoding="utf-8"))
        return loaded
    found: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="matrix-deps-") as scratch:
        for index, selection in enumerate(pairwise()):
            found |= requirements_of(_render_pyproject(source.location, selection.copier_data(),
                                                       Path(scratch) / str(index)))  # fmt: skip
    union = sorted(found)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(union), encoding="utf-8")
    return union


def _render_pyproject(template: str, data: dict[str, object], into: Path) -> Path:
    import copier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Copier's DirtyLocalWarning on a work tree
        copier.run_copy(
            template, into, data={"project_name": "matrix-svc", **data}, defaults=True,
            quiet=True, exclude=["*", "!pyproject.toml.jinja", "!pyproject.toml"],
        )  # fmt: skip
    return into


def shared_python(template: str | None = None) -> Path:
    """Return the interpreter of an environment with every requirement, building it if needed."""
    CACHE.mkdir(exist_ok=True)
    with (CACHE / "generated-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers: one builds, the others wait
        wanted = union_of_requirements(template)
        digest = hashlib.sha256("\n".join([LAYOUT, *wanted]).encode()).hexdigest()[:16]
        python = environment(VENV, wanted, digest)
        traces_children(python)
        return python


def traces_children(python: Path) -> None:
    """The environment's start-up line that traces a Python program started by a traced run
    (it acts only with the trace in its environment: child/read_trace.py)."""
    for site in python.parent.parent.glob("lib/python*/site-packages"):
        start = site / "scaffold_read_trace.pth"
        if not start.is_file() or start.read_text(encoding="utf-8") != START_LINE:
            start.write_text(START_LINE, encoding="utf-8")


def environment(venv: Path, wanted: list[str], digest: str) -> Path:
    """The interpreter of `venv`, (re)built with `wanted` unless its stamp already says
    `digest`. The caller holds the folder's lock (xdist workers: one builds, the others wait)."""
    python = venv / "bin" / "python"
    stamp = venv / "requirements.sha"
    if stamp.is_file() and stamp.read_text() == digest and python.is_file():
        return python
    uv = shutil.which("uv")
    assert uv, "uv is needed to build the environment (scripts/test installs it)"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([uv, "venv", "--quiet", "--python", "3.11", str(venv)], check=True)
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python), *wanted],
        check=True,
    )  # fmt: skip
    write_rewritten_bytecode(python)
    (venv / "requirements.json").write_text(json.dumps(wanted), encoding="utf-8")
    stamp.write_text(digest)
    return python


def write_rewritten_bytecode(python: Path) -> None:
    """pytest's assertion-rewritten bytecode of the plugins' packages (child/rewrite_cache.py),
    written once here since the matrix's sessions may not write bytecode."""
    with tempfile.TemporaryDirectory(prefix="rewrite-cache-") as scratch:
        script = Path(scratch) / "rewrite_cache.py"
        shutil.copy(Path(__file__).parent / "child" / "rewrite_cache.py", script)
        (Path(scratch) / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        pytest = [str(python.absolute()), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        done = subprocess.run(
            [*pytest, "--co", str(script)], cwd=scratch, env=env, capture_output=True,
            text=True, check=False,
        )  # fmt: skip
    no_tests = 5
    assert done.returncode == no_tests, f"writing the rewritten bytecode failed:\n{done.stdout}"


def missing_requirements(project: Path, python: Path) -> list[str]:
    """What the project declares that the shared environment was not built with."""
    built = set(json.loads((python.parent.parent / "requirements.json").read_text()))
    return sorted(requirements_of(project) - built)
