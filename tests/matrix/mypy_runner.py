"""mypy runs in a warm server per test process (``child/mypy_server.py``): every `python -m mypy`
starts an interpreter and imports mypy and the project's plugins (pydantic's imports pydantic)
before it reads a file, the same in every combination. Each check is still a fresh mypy run,
forked from the imported state, with the same arguments, folder, exit code and output as the
command, and nothing left behind for the next one.

The server runs with the shared environment's interpreter, the one whose mypy the command runs,
and imports the plugins the first project it serves names (a later project naming others still
loads them: the run imports what the server has not). ``WARM_VARIABLE=0`` runs the command.
"""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

from tests.matrix.warm_server import WarmServer

SERVER = Path(__file__).with_name("child") / "mypy_server.py"
WARM_VARIABLE = "SCAFFOLD_MATRIX_WARM_MYPY"
GC_VARIABLE = "SCAFFOLD_MATRIX_MYPY_GC"
"""1: the server's checks collect garbage as mypy sets it (child/mypy_server.py reads the name)."""


def configured_plugins(project: Path) -> tuple[str, ...]:
    """The plugins ``[tool.mypy]`` of the project's pyproject.toml names (none without one)."""
    path = project / "pyproject.toml"
    if not path.is_file():
        return ()
    plugins = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("mypy", {})
    return tuple(str(name) for name in plugins.get("plugins", ()))


class WarmMypy(WarmServer):
    def __init__(self, python: Path, modules: tuple[str, ...] = ()) -> None:
        super().__init__([str(python), str(SERVER), *modules], "mypy")


_servers: dict[Path, WarmMypy] = {}


def server(python: Path, project: Path) -> WarmMypy:
    """This process's server for ``python``, started on first use."""
    if python not in _servers:
        _servers[python] = WarmMypy(python, configured_plugins(project))
    return _servers[python]


def stop() -> None:
    while _servers:
        _servers.popitem()[1].stop()


def run_mypy(python: Path, arguments: list[str], project: Path) -> tuple[int, str]:
    """What `python -m mypy ARGUMENTS` in ``project`` exits with and prints."""
    if os.environ.get(WARM_VARIABLE, "1") == "0":
        done = subprocess.run(
            [str(python), "-m", "mypy", *arguments],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.returncode, done.stdout + done.stderr
    return server(python, project).run(arguments, project)
