"""The boot check's server gets its own corner of every shared service, read off the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.matrix import project_env
from tests.matrix.project_env import Namespace

EXAMPLE = """\
# Database
DATABASE_URL=postgresql://svc_pkg:svc_pkg@localhost:5432/svc_pkg
SERVICE_NAME=svc-pkg
REDIS_KEY_PREFIX=svc_pkg
MESSAGING_CHANNEL_PREFIX=svc_pkg.
MESSAGING_CONSUMER_GROUP=svc_pkg.notifications
OTHER=svc_pkgs_are_not_this_one
# REDIS_KEY_PREFIX=commented
CACHE_TTL_SECONDS=300
"""


def test_every_name_derived_from_the_package_is_namespaced(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text(EXAMPLE, encoding="utf-8")
    namespace = Namespace("m0123456789_gw1")

    got = namespace.variables("postgresql://u@h/m0123456789_gw1", tmp_path, "svc_pkg")

    assert got == {
        "DATABASE_URL": "postgresql://u@h/m0123456789_gw1",
        "REDIS_KEY_PREFIX": "m0123456789_gw1",
        "MESSAGING_CHANNEL_PREFIX": "m0123456789_gw1.",
        "MESSAGING_CONSUMER_GROUP": "m0123456789_gw1.notifications",
    }


def test_a_project_without_an_env_example_gets_its_database_only(tmp_path: Path) -> None:
    assert Namespace("t").variables("postgresql://u@h/t", tmp_path, "svc_pkg") == {
        "DATABASE_URL": "postgresql://u@h/t"
    }


def test_two_combinations_get_different_namespaces() -> None:
    assert Namespace.for_combination("caching") != Namespace.for_combination("base")


def test_the_same_combination_run_from_another_checkout_gets_another_namespace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    here = Namespace.for_combination("caching")
    assert Namespace.for_combination("caching") == here  # stable within a checkout
    monkeypatch.setattr(project_env, "ROOT", tmp_path / "another-clone")
    assert Namespace.for_combination("caching") != here
