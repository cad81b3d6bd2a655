"""The template shipped in the package: recorded portably, updated with no network."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import NoReturn

import pytest
import yaml

from scaffold import __version__
from tests.support.cli import run_cli
from tests.support.disk import snapshot


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection from this process fails the test."""

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.usefixtures("offline")
def test_new_then_update_from_anywhere_is_up_to_date(workdir: Path) -> None:
    assert run_cli("new", "demo", "--yes").exit_code == 0
    project = workdir / "demo"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == "scaffold:service"
    assert answers["_commit"] == __version__

    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    before = snapshot(project)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(elsewhere)
        for given in (str(project), "../demo"):
            outcome = run_cli("update", "--project", given)
            assert outcome.exit_code == 0, outcome.stderr
            assert outcome.stdout == f"Already up to date (template {__version__}).\n"
        checked = run_cli("check", "--project", "../demo")
        assert checked.exit_code == 0, checked.stdout
        assert f"template scaffold:service {__version__} (current {__version__})" in checked.stdout
    assert snapshot(project) == before


@pytest.mark.usefixtures("offline")
def test_update_from_a_subfolder_of_the_project(workdir: Path) -> None:
    assert run_cli("new", "demo", "--yes").exit_code == 0
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workdir / "demo" / "src")
        outcome = run_cli("update")
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.startswith("Already up to date")
