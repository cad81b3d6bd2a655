"""Tier 2: run a rendered project's own tests against the real services, migrate, and boot it.

1. its own pytest suite (with the matrix probe: outcomes, interaction tests; a skipped or
   xfailed test fails the combination: in the matrix every test must run and pass);
2. ``alembic upgrade heads`` from the command line, configured from the environment, on an
   empty database of the combination's own;
3. ``uvicorn --factory`` on a free port, with settings from the environment: /health/ready must
   answer 200 and the log must hold no traceback.

The three run forked from the worker's fork server (runner.py), and each one's reads below the
project are traced. The tests run in groups (runtime_groups.py): each group's result is reused
for a later combination whose tree is identical in everything that group read (reuse.py), and
so is the result of migrating and booting, keyed by what those two read. A run that starts
another program or writes into the project cannot be traced completely and is never reused.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from scaffold.catalog import CATALOG
from tests.matrix import project_env
from tests.matrix.content import digest, file_digest, tree_digest
from tests.matrix.cpu_clock import cpu_seconds
from tests.matrix.reuse import Result, Store
from tests.matrix.runner import CHILD, Command, Runner, run, stop
from tests.matrix.runtime_groups import Group, groups, merged, nothing_left_to_run
from tests.matrix.runtime_parts import Place, reused_or_run

PYTEST_ARGS = ["-q", "-p", "no:cacheprovider", "-c", "pytest.ini"]
"""No -x: a failing combination reports every test that failed, and its cost is complete.
``-c``: pytest also opens pyproject.toml beside pytest.ini (to warn about settings it ignores)
unless the file is named, and pyproject.toml lists every capability's dependencies."""
START = "migrate+boot"
"""Tier 2's part that migrates and boots (its name in the report and the reuse store)."""
STOPPED_CLEANLY = {0, -signal.SIGTERM, 128 + signal.SIGTERM}
"""uvicorn shuts down gracefully on SIGTERM, then re-raises it (recent versions)."""
HARNESS = [
    Path(project_env.__file__),
    *sorted(Path(__file__).parent.glob("runtime_*.py")),
    *sorted(CHILD.glob("*.py")),
]
"""The code a tier-2 result depends on: part of every stored result's key."""


@dataclass(frozen=True)
class Combination:
    label: str
    capabilities: frozenset[str]
    project: Path
    package: str
    covered: tuple[str, ...] = ()
    """Its own tests that tier 1 already made (static_tier.covered_tests): left out here."""


@dataclass(frozen=True)
class Worker:
    runner: Runner
    python: Path
    logs: Path
    store: Store
    environment: str
    """Digest of the shared environment's requirements and interpreter."""


@contextmanager
def fresh_database(admin_url: str, name: str) -> Iterator[str]:
    """A database of its own for one combination, dropped afterwards.

    One connection kept open for both ends: each connection costs PostgreSQL ~8 ms of CPU (a
    backend started, SCRAM), and three psql processes cost the worker more than that."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        drop_database(admin, name)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield project_env.with_database(admin_url, name)
        finally:
            if admin.closed or admin.broken:
                with psycopg.connect(admin_url, autocommit=True) as again:
                    drop_database(again, name)
            else:
                drop_database(admin, name)


def drop_database(admin: psycopg.Connection[Any], name: str, wait_seconds: float = 15) -> None:
    """`DROP DATABASE ... WITH (FORCE)`, which ends the sessions still on it, but only those of
    roles the admin may signal: a service's own app role is not one of them. A stopped service's
    backends outlive its process for a moment (longer on a loaded machine), so the drop is
    retried until they are gone; one still there after `wait_seconds` fails the test."""
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            admin.execute(drop)
            return
        except psycopg.errors.InsufficientPrivilege:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


@cache
def services_fingerprint() -> str:
    """The services' addresses, their definitions (which pin versions) and PostgreSQL's version."""
    root = project_env.ROOT / "scripts"
    definitions = [file_digest(root / "services")]
    if (root / "services.d").is_dir():
        definitions.append(tree_digest(root / "services.d"))
    admin = project_env.services_env()["DATABASE_URL"]
    server = subprocess.run(
        ["psql", admin, "-Atc", "SHOW server_version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return digest(project_env.services_env(), definitions, server)


def primary_key(combination: Combination, worker: Worker) -> str:
    """Everything tier 2 depends on besides the files it reads (those are in its manifest)."""
    env = project_env.base_env(worker.python, combination.project)
    normalised = {k: v.replace(str(combination.project), "<project>") for k, v in env.items()}
    return digest(
        [file_digest(path) for path in HARNESS], worker.environment, services_fingerprint(),
        normalised, PYTEST_ARGS, combination.package, combination.covered,
    )  # fmt: skip


def runtime_tier(combination: Combination, worker: Worker) -> Result:
    """Tier 2's result: each part run, or reused from a combination with identical inputs."""
    started = time.monotonic()
    details: dict[str, Any] = {"phases": {}, "groups": {}}
    try:
        _run_tier(combination, worker, details)
        outcome, message = "passed", ""
    except AssertionError as error:
        outcome, message = "failed", str(error)[:6000]
    parts = [*details["groups"].values(), *details.get("start", {}).values()]
    details["reusable"] = all(part["reusable"] for part in parts)
    sources = sorted({part["reused_from"] for part in parts if part["reused_from"]})
    anything_ran = any(part["reused_from"] is None for part in parts)
    source = combination.label if anything_ran or not sources else ", ".join(sources)
    return Result(outcome, message, source, _since(started), details)


def _since(started: float) -> float:
    return round(time.monotonic() - started, 2)


def _run_tier(combination: Combination, worker: Worker, details: dict[str, Any]) -> None:
    namespace = project_env.Namespace.for_combination(combination.label)
    admin = project_env.services_env()["DATABASE_URL"]
    primary = primary_key(combination, worker)
    with fresh_database(admin, namespace.database) as url:
        base = project_env.base_env(worker.python, combination.project)
        phases: dict[str, float] = details["phases"]
        started = time.monotonic()
        # The tests get only their server (they make their own database and prefixes, and some
        # check the settings' defaults); the server started below gets the whole namespace.
        env = {**base, "DATABASE_URL": url}
        own_tests_pass(combination, worker, env, primary, details)
        phases["tests"], started = _since(started), time.monotonic()
        served = {**base, **namespace.variables(url, combination.project, combination.package)}

        def migrated_and_booted(traces: list[Path], timings: dict[str, Any]) -> None:
            begun = time.monotonic()
            migrations_apply(combination, worker, served, traces)
            timings["migrate"], begun = _since(begun), time.monotonic()
            booted(combination, worker, served, traces)
            timings["boot"] = _since(begun)

        result, row = reused_or_run("runtime-start", primary, _place(combination, worker),
                                    migrated_and_booted, START)  # fmt: skip
        details["start"] = {START: row}
        phases.update({k: v for k, v in result.details.items() if k in ("migrate", "boot")})
        assert result.outcome == "passed", result.message


def _command(
    worker: Worker, name: str, kind: str, args: list[str], combination: Combination,
    env: dict[str, str], traces: list[Path],
) -> Command:  # fmt: skip
    trace = worker.logs / f"{name}.trace.json" if worker.runner.traces else None
    if trace is not None:
        trace.unlink(missing_ok=True)
        shutil.rmtree(f"{trace}.children", ignore_errors=True)  # its processes' records
        traces.append(trace)
    return Command(kind, args, combination.project, env, worker.logs / f"{name}.log", trace)


def _tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-5000:] if log.is_file() else ""


def _failures(log: Path) -> str:
    """pytest's ERRORS or FAILURES section (its start, where the exception is: an error in a
    fixture's set-up or teardown comes first), or the log's end."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    found = [at for at in (text.find("= ERRORS ="), text.find("= FAILURES =")) if at >= 0]
    start = min(found, default=-1)
    summary = text[text.find("short test summary") :] if "short test summary" in text else ""
    return (text[start : start + 3000] if start >= 0 else text[-3000:]) + "\n" + summary[-1500:]


def own_tests_pass(
    combination: Combination, worker: Worker, env: dict[str, str], primary: str,
    details: dict[str, Any],
) -> None:  # fmt: skip
    """Every group of the project's tests, then the checks of the whole suite on the merged
    probe summaries (runtime_groups.py)."""
    summaries: list[dict[str, Any]] = []
    ran: list[dict[str, Any]] = []
    failed: list[str] = []
    for group in groups(combination.project):
        result, row = group_result(group, combination, worker, env, primary)
        details.setdefault("groups", {})[group.name] = row
        summary = result.details.get("summary")
        if summary is not None:
            summaries.append(summary)
            if row["reused_from"] is None:
                ran.append(summary)
        if result.outcome != "passed":
            failed.append(f"[group {group.name}] {result.message}")
    whole = merged(summaries)
    details["tests"] = whole["counts"]
    details["interactions"] = whole["interactions"]
    details["module_seconds"] = merged(ran)["module_seconds"]  # what ran now cost time now
    details["covered_by_tier_1"] = whole["covered_by_tier_1"]
    assert not failed, "\n".join(failed)
    present = {t for t in combination.covered if (combination.project / t.split("::")[0]).is_file()}
    missing = sorted(present - set(whole["covered_by_tier_1"]))
    assert not missing, f"tier 1 covers tests the project no longer has: {missing}"
    assert not whole["not_passed"], f"tests that did not pass: {whole['not_passed']}"
    interactions_are_declared_right(combination, whole["interactions"])


def group_result(
    group: Group, combination: Combination, worker: Worker, env: dict[str, str], primary: str
) -> tuple[Result, dict[str, Any]]:
    """One group's pytest run (or its reuse): passed when pytest exits 0; its details hold the
    matrix probe's summary. Keyed by the tier's primary key, the group and its exact
    arguments (the probe's file named alike in every worker)."""
    probe = worker.logs / f"probe-{group.name}.json"
    args = group.args(PYTEST_ARGS, combination.covered, str(probe))
    key = digest(primary, group.name, [a.replace(str(probe), "<probe>") for a in args])

    def run_group(traces: list[Path], details: dict[str, Any]) -> None:
        probe.unlink(missing_ok=True)
        name = f"pytest-{group.name}"
        command = _command(worker, name, "pytest", args, combination, env, traces)
        code = run(worker.runner, command)
        summary = json.loads(probe.read_text(encoding="utf-8")) if probe.is_file() else None
        if summary is not None:
            details["summary"] = summary
        passed = code == 0 or nothing_left_to_run(code, summary)
        assert passed, f"the project's own tests failed (exit {code}):\n{_failures(command.log)}"
        assert summary is not None, f"no matrix probe summary:\n{_tail(command.log)}"

    place = _place(combination, worker)
    return reused_or_run("runtime-group", key, place, run_group, group.name)


def _place(combination: Combination, worker: Worker) -> Place:
    store = worker.store if worker.runner.traces else None

    def cpu() -> float:
        return cpu_seconds() + worker.runner.cpu_seconds

    return Place(store, combination.project, combination.label, cpu)


def interactions_are_declared_right(
    combination: Combination, interactions: list[dict[str, Any]]
) -> None:
    known = set(CATALOG.names)
    for test in interactions:
        names = set(test["capabilities"])
        assert len(names) >= 2, f"{test['test']}: an interaction names two capabilities or more"
        assert names <= known, f"{test['test']}: not catalog capabilities: {sorted(names - known)}"
        absent = names - combination.capabilities
        assert not absent, f"{test['test']} is rendered without {sorted(absent)}"


def migrations_apply(
    combination: Combination, worker: Worker, env: dict[str, str], traces: list[Path]
) -> None:
    command = _command(worker, "alembic", "alembic", ["upgrade", "heads"], combination, env, traces)
    code = run(worker.runner, command, timeout=120)
    assert code == 0, f"alembic upgrade heads failed (exit {code}):\n{_tail(command.log)}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def booted(
    combination: Combination, worker: Worker, env: dict[str, str], traces: list[Path]
) -> None:
    command = _command(worker, "uvicorn", "uvicorn", [], combination, env, traces)
    boots_and_is_ready(worker.runner, combination.project, combination.package, command)


def boots_and_is_ready(runner: Runner, project: Path, package: str, command: Command) -> None:
    """Start ``uvicorn --factory`` on a free port; /health/ready must answer 200, the server
    must stop cleanly on SIGTERM and log no traceback. ``command`` gives the log, environment
    and trace; its arguments are set here."""
    port = free_port()
    args = ["--factory", f"{package}.main:create_app", "--host", "127.0.0.1", "--port", str(port)]
    command = Command("uvicorn", args, project, command.env, command.log, command.trace)
    pid = runner.start(command)
    try:
        url = f"http://127.0.0.1:{port}/health/ready"
        status = _wait_ready(url, runner, pid, command.log, deadline=30)
    finally:
        code = stop(runner, pid)
    output = _tail(command.log)
    assert status == 200, f"/health/ready answered {status}:\n{output}"
    assert code in STOPPED_CLEANLY, f"uvicorn exited with {code}:\n{output}"
    assert "Traceback" not in output, output


def _wait_ready(url: str, runner: Runner, pid: int, log: Path, deadline: float) -> int:
    stop_at = time.monotonic() + deadline
    while time.monotonic() < stop_at:
        code = runner.poll(pid)
        assert code is None, f"uvicorn exited with {code} before answering:\n{_tail(log)}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {deadline} s:\n{_tail(log)}")
