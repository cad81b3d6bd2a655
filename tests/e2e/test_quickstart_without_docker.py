"""The generated README's quick start without Docker, done as it says, on this machine's services.

A project with Redis is generated (so both services are in the steps), installed from its lock
(`uv sync --locked`), given the role and database of the README's own SQL, then
`cp .env.example .env && make migrate`. The settings come from `.env` alone (none of the test's
environment variables reach `make`); only the ports change, because the test machine's servers
are not on 5432 and 6379.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.service_env import required_env

pytestmark = [pytest.mark.slow, pytest.mark.services]

SCAFFOLD = Path(sys.executable).parent / "scaffold"
SUPERUSER_PSQL = re.compile(r'^sudo -u postgres psql -c "(?P<sql>[^"]+)"$')


def sh(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def without_docker_steps(readme: str) -> list[str]:
    """The commands of the README's "Without Docker" block, comments removed."""
    section = readme.split("### Without Docker", 1)[1]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True)


def on_port(url: str, documented: int, port: int) -> str:
    """The documented URL, on the test server's port instead of the documented one."""
    assert f"localhost:{documented}/" in url, url
    return url.replace(f"localhost:{documented}/", f"localhost:{port}/")


def test_cp_env_example_and_make_migrate_work_with_the_documented_values(
    tmp_path: Path, admin_database_url: str
) -> None:
    uv = shutil.which("uv")
    assert uv, "uv is needed (scripts/test installs it)"
    redis_port = urlsplit(required_env("REDIS_URL")).port
    pg_port = urlsplit(admin_database_url).port
    assert redis_port and pg_port
    name = f"qs{secrets.token_hex(3)}"
    clean = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    sh([str(SCAFFOLD), "new", name, "--yes", "--with", "caching"], tmp_path, clean)
    project = tmp_path / name
    steps = without_docker_steps((project / "README.md").read_text(encoding="utf-8"))
    superuser_sql = [m["sql"] for step in steps if (m := SUPERUSER_PSQL.match(step))]
    assert len(superuser_sql) == 2, steps
    assert steps[len(superuser_sql) :] == [
        "make install",
        "cp .env.example .env",
        "make migrate",
        "make run",
    ]

    psql(admin_database_url, superuser_sql[0])  # CREATE ROLE
    try:
        # The test's server role is not a superuser: it joins the new role to give it a database.
        psql(admin_database_url, f"GRANT {name} TO CURRENT_USER")
        psql(admin_database_url, superuser_sql[1])  # CREATE DATABASE ... OWNER
        sh(["make", "install"], project, clean)
        sh(["git", "diff", "--exit-code", "uv.lock"], project, clean)  # the lock was current
        shutil.copy(project / ".env.example", project / ".env")
        env_file = project / ".env"
        lines = env_file.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            key, _, value = line.partition("=")
            if key == "DATABASE_URL":
                lines[index] = f"{key}={on_port(value, 5432, pg_port)}"
            elif key == "REDIS_URL":
                lines[index] = f"{key}={on_port(value, 6379, redis_port)}"
        env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        settings_free = {k: v for k, v in clean.items() if not _is_a_setting(k)}

        sh(["make", "migrate"], project, settings_free)

        tables = subprocess.run(
            ["psql", _as_role(admin_database_url, name), "-Atc", "SELECT to_regclass('items')"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert tables.stdout.strip() == "items"
    finally:
        psql(admin_database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        psql(admin_database_url, f"DROP ROLE IF EXISTS {name}")


def _is_a_setting(variable: str) -> bool:
    """Variables the service would read: they would win over .env."""
    return variable.startswith(("DATABASE_", "REDIS_", "CACHE_", "TRENDING_", "PG"))


def _as_role(admin_url: str, role: str) -> str:
    parts = urlsplit(admin_url)
    return f"postgresql://{role}:{role}@{parts.hostname}:{parts.port}/{role}"
