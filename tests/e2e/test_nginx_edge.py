"""The generated NGINX edge, for real: two uvicorn instances of a generated service behind it.

A project with `rate_limiting` is rendered, migrated on a fresh database, and started twice on
loopback ports; nginx runs the project's own deploy/nginx config (rendered for loopback as the
image would render it) in front. Requests must spread over both instances (nginx's access log
names the upstream of each), and past the edge's per-address burst, nginx itself answers 429.
The app's own limiter is given a huge quota here, so every 429 seen is the edge's.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from email.message import Message
from pathlib import Path

import pytest

from scaffold.commands.new import NewOptions, create_project
from scaffold.names import package_name
from scaffold.selection import Request
from tests.matrix.project_env import project_env
from tests.matrix.runtime_checks import free_port, fresh_database
from tests.matrix.shared_env import shared_python
from tests.matrix.static_checks import run
from tests.support import nginx

pytestmark = [pytest.mark.slow, pytest.mark.services]

PROJECT = "edge-svc"
# The edge lets 1 + 20 (burst) requests through at once per address, then 10 a second.
EDGE_BURST = 21
EDGE_RATE = 10
GENEROUS_APP_POLICIES = json.dumps(
    {
        "default": {"limit": 1_000_000, "window_seconds": 60},
        "sensitive": {"limit": 5, "window_seconds": 60, "fail_open": False},
    }
)


def required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.fail(
            f"{name} is not set: start the services with `scripts/services up` and "
            '`eval "$(scripts/services env)"` (scripts/test does both)',
            pytrace=False,
        )
    return value


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("edge")
    request = Request(with_=("rate_limiting",))
    return create_project(
        NewOptions(name=PROJECT, output_dir=folder, request=request, git=False, lock=False)
    ).target


@pytest.fixture(scope="module")
def python() -> Path:
    """The matrix's shared environment."""
    return shared_python()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """Status, headers (names case-insensitive) and body; error statuses too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


Started = tuple[subprocess.Popen[bytes], Path]


def wait_until_answering(url: str, server: Started) -> None:
    process, log = server
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args!r} exited:\n{log.read_text()}"
        try:
            status, _, _ = get(url)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer 200 within 30 s:\n{log.read_text()}")


@contextmanager
def started(command: list[str], log: Path, cwd: Path, env: dict[str, str]) -> Iterator[Started]:
    """A server whose stdout and stderr go to `log`, stopped (SIGTERM) on leaving."""
    with log.open("ab") as sink:  # append: nginx reopens /dev/stdout with O_APPEND
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink, stderr=sink)
        try:
            yield process, log
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_edge_balances_over_two_instances_and_limits_per_address(
    project: Path, python: Path, admin_database_url: str, tmp_path: Path
) -> None:
    redis_url = required_env("REDIS_URL")
    ports = {"app_1": free_port(), "app_2": free_port(), "edge": free_port()}
    with (
        fresh_database(admin_database_url, f"e2e_edge_{os.getpid()}") as database_url,
        ExitStack() as running,
    ):
        env = project_env(
            python,
            project,
            database_url,
            {
                "REDIS_URL": redis_url,
                "REDIS_KEY_PREFIX": f"e2e_edge_{secrets.token_hex(4)}",
                "RATE_LIMIT_POLICIES": GENEROUS_APP_POLICIES,
                "LOG_LEVEL": "WARNING",
            },
        )
        run([str(python), "-m", "alembic", "upgrade", "heads"], project, env)
        factory = f"{package_name(PROJECT)}.main:create_app"
        for name in ("app_1", "app_2"):
            uvicorn = [
                str(python), "-m", "uvicorn", "--factory", factory,
                "--host", "127.0.0.1", "--port", str(ports[name]),
            ]  # fmt: skip
            app = running.enter_context(started(uvicorn, tmp_path / f"{name}.log", project, env))
            wait_until_answering(f"http://127.0.0.1:{ports[name]}/health/ready", app)

        main = nginx.render_edge(
            project,
            tmp_path / "nginx",
            {
                "APP_SERVER_1": f"127.0.0.1:{ports['app_1']}",
                "APP_SERVER_2": f"127.0.0.1:{ports['app_2']}",
                "NGINX_PORT": str(ports["edge"]),
            },
        )
        nginx.check_config(main)
        command = nginx.nginx_command(main, "-g", "daemon off;")
        edge_server = running.enter_context(started(command, tmp_path / "edge.log", project, env))
        edge = f"http://127.0.0.1:{ports['edge']}"
        wait_until_answering(f"{edge}/health/live", edge_server)  # probes pass unlimited

        began = time.monotonic()
        spread = [get(f"{edge}/rate-limit", {"X-Request-ID": f"e2e-{n}"}) for n in range(10)]
        flood = [get(f"{edge}/rate-limit") for _ in range(3 * EDGE_BURST)]
        elapsed = time.monotonic() - began
    access_log = edge_server[1]

    # Through the edge, the app answered, with its own headers and the caller's request id.
    assert [status for status, _, _ in spread] == [200] * 10
    assert all("RateLimit" in headers for _, headers, _ in spread)
    assert [h["X-Request-ID"] for _, h, _ in spread] == [f"e2e-{n}" for n in range(10)]

    # nginx's access log names the instance that served each request: both did.
    lines = [json.loads(line) for line in access_log.read_text().splitlines() if line[:1] == "{"]
    served = Counter(
        line["upstream_addr"] for line in lines if line["request"].startswith("GET /rate-limit")
    )
    instances = {f"127.0.0.1:{ports['app_1']}", f"127.0.0.1:{ports['app_2']}"}
    assert set(served) - {""} == instances, served
    assert min(served[address] for address in instances) >= 5, served

    # Past its burst, the edge refuses on its own: 429 problem documents that never reached
    # an app instance (no RateLimit header, no upstream in the log).
    statuses = Counter(status for status, _, _ in flood)
    admitted = 10 + statuses[200]
    assert statuses[429] >= 1, statuses
    assert admitted <= EDGE_BURST + EDGE_RATE * elapsed + 1, (admitted, elapsed)
    assert set(statuses) == {200, 429}, statuses
    refused = [(h, body) for status, h, body in flood if status == 429]
    headers, body = refused[0]
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["Retry-After"] == "1"
    assert "RateLimit" not in headers
    assert json.loads(body)["status"] == 429
    rejected = [line for line in lines if line["limit_req_status"] == "REJECTED"]
    assert len(rejected) == statuses[429]
    assert all(line["upstream_addr"] == "" for line in rejected)
