"""The environment a generated project's tests and server get in the matrix.

A clean environment, not the tool's own: the handful of variables any program needs, the
backing services' variables exactly as ``scripts/services env`` prints them (DATABASE_URL,
REDIS_URL, and whatever services are added: KAFKA_BOOTSTRAP_SERVERS, RABBITMQ_URL, OIDC_ISSUER
…), and per combination its own namespaces on those shared services (``Namespace``). Nothing of
the tool's pytest run (PYTEST_*, VIRTUAL_ENV, xdist's variables) leaks into the project's.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
PASSED_THROUGH = (
    "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME", "TMPDIR",
    "SSL_CERT_FILE", "SSL_CERT_DIR",
)  # fmt: skip


@cache
def services_env() -> dict[str, str]:
    """The ``export NAME=value`` lines of ``scripts/services env``, parsed."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "services"), "env"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"scripts/services env failed:\n{done.stderr}"
    found: dict[str, str] = {}
    for line in done.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            found[name] = value
    assert "DATABASE_URL" in found, f"scripts/services env printed no DATABASE_URL:\n{done.stdout}"
    return found


@dataclass(frozen=True)
class Namespace:
    """One combination's own corner of the shared services, named after its label, the worker
    and the checkout running it: two runs of the matrix from two clones (CI beside a local run,
    two worktrees) share the services and the worker names, never a namespace."""

    token: str

    @classmethod
    def for_combination(cls, label: str) -> Namespace:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
        named = f"{ROOT}\0{label}".encode()
        return cls(f"m{hashlib.sha1(named).hexdigest()[:10]}_{worker}")

    @property
    def database(self) -> str:
        return self.token

    def variables(self, database_url: str, project: Path, package: str) -> dict[str, str]:
        """What the server the boot check starts reads to stay in its namespace: its database,
        and every shared name the project's ``.env.example`` derives from the package name
        (``REDIS_KEY_PREFIX=pkg``, ``MESSAGING_CHANNEL_PREFIX=pkg.``, a consumer group
        ``pkg.notifications`` ...), with the package name replaced by this namespace's token.
        So a capability that names things on a shared service is namespaced without the matrix
        knowing it. The generated tests get only DATABASE_URL: they make their own database and
        prefixes per session, and some check the settings' defaults."""
        names = {"DATABASE_URL": database_url}
        for name, value in example_variables(project).items():
            rest = value.removeprefix(package)
            if name != "DATABASE_URL" and value.startswith(package) and SHARED_NAME.match(rest):
                names[name] = self.token + rest
        return names


SHARED_NAME = re.compile(r"^($|[^A-Za-z0-9_-])")
"""What follows the package name in a value derived from it (nothing, or a separator). Not a
hyphen: `<project name>-web` (an OIDC client id) is an identity, not a name on a shared service,
and a project name without hyphens equals its package name."""


def example_variables(project: Path) -> dict[str, str]:
    """``NAME=value`` lines of the project's ``.env.example`` (none when it has none)."""
    path = project / ".env.example"
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    pairs = (line.partition("=") for line in lines if not line.lstrip().startswith("#"))
    return {name.strip(): value.strip() for name, sep, value in pairs if sep and name.strip()}


def base_env(python: Path, project: Path) -> dict[str, str]:
    """Everything but the namespace: the same for every combination a worker runs."""
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env.update(services_env())
    env.update(
        {
            "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(project / "src"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def with_database(admin_url: str, name: str) -> str:
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


def project_env(
    python: Path, project: Path, database_url: str, extra: dict[str, str]
) -> dict[str, str]:
    """For a test that starts a project by hand: the base environment, its database, extras."""
    return {**base_env(python, project), "DATABASE_URL": database_url, **extra}
