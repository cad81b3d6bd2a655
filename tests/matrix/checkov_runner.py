"""checkov runs in a warm server per test process (``child/checkov_server.py``): a cold
`checkov` spends about 8 of its 11 CPU-seconds importing itself, and the matrix scans one
Terraform folder per distinct tree. Each scan is still a fresh checkov run, forked from the
imported state, with the same arguments, folder and exit code as the command (warm_server.py).

The server runs with checkov's own interpreter: the one its launcher (scripts/install-linters)
executes. When that interpreter cannot be found (checkov installed some other way), scans run
the command itself.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

from tests.matrix.warm_server import WarmServer

SERVER = Path(__file__).with_name("child") / "checkov_server.py"
TABLES_VARIABLE = "SCAFFOLD_CHECKOV_PARSER_TABLES"
"""0: the server builds no parser tables before its scans (it reads the same name)."""
PARSE_VARIABLE = "SCAFFOLD_CHECKOV_PARSE_ONCE"
"""0: the server parses each Terraform text in every scan, as checkov does (same name there)."""
LAUNCHED = re.compile(r'^exec "([^"]+)/bin/checkov"', re.MULTILINE)


def checkov_interpreter(checkov: Path) -> Path | None:
    """The Python of checkov's virtualenv: the shebang of the script checkov's launcher runs
    (or of ``checkov`` itself when it is that script)."""
    text = checkov.read_text(encoding="utf-8", errors="replace")
    launched = LAUNCHED.search(text)
    script = Path(launched.group(1)) / "bin" / "checkov" if launched else checkov
    if not script.is_file():
        return None
    first = script.read_text(encoding="utf-8", errors="replace").splitlines()[:1]
    if not first or not first[0].startswith("#!"):
        return None
    interpreter = Path(first[0][2:].strip())
    return interpreter if interpreter.name.startswith("python") and interpreter.is_file() else None


class WarmCheckov(WarmServer):
    def __init__(self, interpreter: Path) -> None:
        super().__init__([str(interpreter), str(SERVER)], "checkov")


@cache
def _server(interpreter: Path) -> WarmCheckov:
    return WarmCheckov(interpreter)


def run_checkov(checkov: Path, arguments: list[str], cwd: Path) -> tuple[int, str]:
    """What `checkov ARGUMENTS` in ``cwd`` exits with and prints."""
    interpreter = checkov_interpreter(checkov)
    if interpreter is None:
        done = subprocess.run(
            [str(checkov), *arguments], cwd=cwd, capture_output=True, text=True, check=False
        )
        return done.returncode, done.stdout + done.stderr
    return _server(interpreter).run(arguments, cwd)
