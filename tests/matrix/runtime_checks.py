"""Tier 2: run a rendered project's own tests against the real services, and boot it."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.matrix.static_checks import run


def project_env(
    python: Path, project: Path, database_url: str, extra: dict[str, str]
) -> dict[str, str]:
    env = {
        **os.environ,
        **extra,
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(project / "src"),
        "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    return env


@contextmanager
def fresh_database(admin_url: str, name: str) -> Iterator[str]:
    """A database of its own for one combination, dropped afterwards."""
    psql = ["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-q", "-c"]
    subprocess.run([*psql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True)
    subprocess.run([*psql, f'CREATE DATABASE "{name}"'], check=True)
    parts = urlsplit(admin_url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        subprocess.run([*psql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=False)


def own_tests_pass(project: Path, python: Path, env: dict[str, str]) -> None:
    run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], project, env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def boots_and_is_ready(project: Path, python: Path, package: str, env: dict[str, str]) -> None:
    """Migrate, start uvicorn, and expect /health/ready to answer 200."""
    run([str(python), "-m", "alembic", "upgrade", "heads"], project, env)
    port = free_port()
    server = subprocess.Popen(
        [str(python), "-m", "uvicorn", "--factory", f"{package}.main:create_app",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        status = _wait_ready(f"http://127.0.0.1:{port}/health/ready", server, deadline=30)
        assert status == 200, f"/health/ready answered {status}"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert "Traceback" not in output, output


def _wait_ready(url: str, server: subprocess.Popen[str], deadline: float) -> int:
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        assert server.poll() is None, f"uvicorn exited with {server.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {deadline} s")
