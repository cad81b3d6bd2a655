from __future__ import annotations

import subprocess

import pytest

from scaffold.errors import InvalidProjectName
from scaffold.names import (
    MAX_LENGTH,
    MIN_LENGTH,
    POSTGRES_RESERVED_WORDS,
    package_name,
    validate_project_name,
)


@pytest.mark.parametrize(
    "name",
    ["demo", "payments", "order-service", "a1", "x_y-z2", "ab", "a" * MAX_LENGTH, "users"],
)
def test_valid_names(name: str) -> None:
    assert validate_project_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("1abc", "start with a lowercase letter"),
        ("my service", "start with a lowercase letter"),
        ("class", "keyword"),
        ("match", "keyword"),
        ("../x", "not a path"),
        ("a/b", "not a path"),
        ("a" * 200, "longer than"),
        ("a" * (MAX_LENGTH + 1), f"longer than {MAX_LENGTH} characters"),
        ("p", f"shorter than {MIN_LENGTH} characters"),
        ("café", "ASCII"),
        ("Demo", "lowercase"),
        ("a--b", "single"),
        ("a-", "single"),
        ("json", "shadow"),
        ("tests", "shadow"),
        ("user", "reserved word of PostgreSQL"),
        ("current-user", "reserved word of PostgreSQL"),
        ("window", "reserved word of PostgreSQL"),
        ("internal", "load balancer names cannot start with 'internal-'"),
        ("internal_api", "load balancer names cannot start with 'internal-'"),
        ("sg", "security group names cannot start with 'sg-'"),
        ("sg-payments", "security group names cannot start with 'sg-'"),
    ],
)
def test_invalid_names_say_why(name: str, reason: str) -> None:
    with pytest.raises(InvalidProjectName, match=reason):
        validate_project_name(name)


@pytest.mark.parametrize(
    ("name", "module", "owner"),
    [
        # declared by the template, its own module
        ("fastapi", "fastapi", "fastapi"),
        ("redis", "redis", "redis"),
        ("asyncpg", "asyncpg", "asyncpg"),
        ("httpx", "httpx", "httpx"),
        ("pytest", "pytest", "pytest"),
        ("pydantic-settings", "pydantic_settings", "pydantic-settings"),
        ("pydantic_settings", "pydantic_settings", "pydantic-settings"),
        ("http-sf", "http_sf", "http-sf"),
        # installed with them: the resolution's modules
        ("starlette", "starlette", "starlette"),
        ("anyio", "anyio", "anyio"),
        ("yaml", "yaml", "pyyaml"),
        ("dotenv", "dotenv", "python-dotenv"),
        ("opentelemetry", "opentelemetry", "opentelemetry-api"),
        ("typing-extensions", "typing_extensions", "typing-extensions"),
    ],
)
def test_names_that_shadow_what_the_service_installs(name: str, module: str, owner: str) -> None:
    with pytest.raises(InvalidProjectName, match=f"shadow the module '{module}'.* from {owner}$"):
        validate_project_name(name)


def test_a_distribution_the_service_installs_is_refused_by_its_name() -> None:
    with pytest.raises(InvalidProjectName, match=r"depends on a distribution .*python-dotenv"):
        validate_project_name("python-dotenv")


def test_package_name_replaces_hyphens() -> None:
    assert package_name("order-service") == "order_service"


@pytest.mark.services
def test_postgres_reserved_words_match_the_running_server(admin_database_url: str) -> None:
    """Every word the real PostgreSQL reserves (R, T: not usable as a database name unquoted)."""
    query = (
        "select current_setting('server_version_num')::int / 10000, "
        "string_agg(word, ' ') from pg_get_keywords() where catcode in ('R', 'T')"
    )
    done = subprocess.run(
        ["psql", admin_database_url, "-At", "-F", "|", "-c", query],
        check=True,
        capture_output=True,
        text=True,
    )
    major, words = done.stdout.strip().split("|")
    reserved = set(words.split())
    assert reserved <= POSTGRES_RESERVED_WORDS
    newer = {"system_user"}  # reserved since PostgreSQL 16, the version the Terraform runs
    assert POSTGRES_RESERVED_WORDS - reserved == (newer if int(major) < 16 else set())
