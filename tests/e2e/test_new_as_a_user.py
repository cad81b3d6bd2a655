"""What the README promises: `scaffold new demo --yes`, then the project's own commands work.

Unlike the matrix (one shared environment), this installs the generated project the way its
README says (`uv sync`), runs its tests against the real PostgreSQL, and boots it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.matrix.runner import Command, FreshInterpreters
from tests.matrix.runtime_checks import boots_and_is_ready, fresh_database

SCAFFOLD = Path(sys.executable).parent / "scaffold"


def sh(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_new_demo_on_defaults_installs_tests_lints_and_boots(
    tmp_path: Path, admin_database_url: str
) -> None:
    uv = shutil.which("uv")
    assert uv, "uv is needed (scripts/test installs it)"
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    sh([str(SCAFFOLD), "new", "demo", "--yes"], tmp_path, env)
    project = tmp_path / "demo"
    sh([uv, "sync", "--quiet"], project, env)
    python = project / ".venv" / "bin" / "python"
    sh([str(python), "-m", "ruff", "check", "."], project, env)
    sh([str(python), "-m", "mypy"], project, env)
    with fresh_database(admin_database_url, f"e2e_demo_{os.getpid()}") as url:
        run_env = {**env, "DATABASE_URL": url}
        summary = sh(
            [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, run_env
        )
        assert " passed" in summary and "failed" not in summary
        sh([str(python), "-m", "alembic", "upgrade", "heads"], project, run_env)
        boot = Command("uvicorn", [], project, run_env, tmp_path / "uvicorn.log")
        boots_and_is_ready(FreshInterpreters(python), project, "demo", boot)
    status = sh(["git", "status", "--porcelain", "--untracked-files=no"], project, env)
    assert status == "", "the project's own commands changed tracked files"
