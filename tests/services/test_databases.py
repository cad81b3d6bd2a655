"""PostgreSQL (two independent primaries and a streaming replica of the first) and Redis, as
`scripts/services` runs them, through their usual clients."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
import redis

from tests.matrix.runtime_checks import drop_database
from tests.support.service_env import required_env

pytestmark = pytest.mark.services


def with_database(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """A new database on shard 1 (the DATABASE_URL server), dropped afterwards."""
    url = required_env("DATABASE_URL")
    name = f"t_services_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            drop_database(admin, name)


def test_the_role_creates_databases_and_roles_but_is_no_superuser() -> None:
    with psycopg.connect(required_env("DATABASE_URL")) as conn:
        row = conn.execute(
            "SELECT rolcreatedb, rolcreaterole, rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    assert row == (True, True, False)


def test_the_two_shards_are_independent_primaries(scratch_database: str) -> None:
    shard_urls = required_env("POSTGRES_SHARD_URLS").split(",")
    assert len(shard_urls) == 2
    assert shard_urls[0] == required_env("DATABASE_URL")
    ports = set()
    for url in shard_urls:
        with psycopg.connect(url) as conn:
            in_recovery, port = conn.execute(
                "SELECT pg_is_in_recovery(), current_setting('port')"
            ).fetchone() or (None, None)
            assert in_recovery is False
            ports.add(port)
    assert len(ports) == 2
    # The database made on shard 1 does not exist on shard 2.
    with psycopg.connect(shard_urls[1]) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (scratch_database,)
        ).fetchone()
    assert found is None


def test_the_replica_follows_shard_1_and_refuses_writes(scratch_database: str) -> None:
    primary = with_database(required_env("DATABASE_URL"), scratch_database)
    replica = with_database(required_env("POSTGRES_REPLICA_URL"), scratch_database)
    marker = secrets.token_hex(8)
    with psycopg.connect(primary) as conn:
        conn.execute("CREATE TABLE replicated (marker text)")
        conn.execute("INSERT INTO replicated VALUES (%s)", (marker,))

    deadline = time.monotonic() + 15
    while True:
        try:
            with psycopg.connect(replica) as conn:
                in_recovery = conn.execute("SELECT pg_is_in_recovery()").fetchone()
                seen = conn.execute("SELECT marker FROM replicated").fetchall()
            break
        except (psycopg.OperationalError, psycopg.errors.UndefinedTable):
            # The new database or table has not been replayed yet.
            assert time.monotonic() < deadline, "the replica did not replay shard 1's writes in 15s"
            time.sleep(0.1)
    assert in_recovery == (True,)
    assert seen == [(marker,)]

    with (
        psycopg.connect(replica) as conn,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
    ):
        conn.execute("INSERT INTO replicated VALUES ('no')")


def test_redis_answers() -> None:
    client = redis.Redis.from_url(required_env("REDIS_URL"))
    try:
        assert client.ping() is True
        key = f"services-test:{secrets.token_hex(4)}"
        client.set(key, "value", ex=60)
        assert client.get(key) == b"value"
        client.delete(key)
    finally:
        client.close()


def test_a_database_is_dropped_once_another_roles_session_on_it_ends() -> None:
    """The matrix's `drop_database`: `WITH (FORCE)` may not end a session of a role the admin
    cannot signal (a service's app role); the drop waits for the session to end by itself."""
    url = required_env("DATABASE_URL")
    name, role = f"t_drop_{secrets.token_hex(4)}", f"t_drop_role_{secrets.token_hex(4)}"
    password = secrets.token_hex(8)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        try:
            session = psycopg.connect(with_database(url, name), user=role, password=password)
            ends = threading.Timer(1.0, session.close)
            ends.start()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                drop_database(admin, name, wait_seconds=0)  # no wait: refused, as before
            drop_database(admin, name)
            ends.join()
            assert admin.execute(
                "SELECT count(*) FROM pg_database WHERE datname = %s", (name,)
            ).fetchone() == (0,)
        finally:
            drop_database(admin, name)
            admin.execute(f"DROP ROLE IF EXISTS {role}")
