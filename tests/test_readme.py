"""The README's first hour: what its commands do on a fresh checkout, and what they need."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def console_blocks(text: str) -> list[str]:
    return re.findall(r"```console\n(.*?)```", text, re.DOTALL)


def checkout_copy(into: Path) -> Path:
    """The tracked files as they are now, in a fresh git repository of their own."""
    checkout = into / "scaffold"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split("\0")[:-1]
    for name in tracked:
        if (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run([*git, "init", "-q"], cwd=checkout, check=True)
    subprocess.run([*git, "add", "-A"], cwd=checkout, check=True)
    subprocess.run([*git, "commit", "-qm", "checkout"], cwd=checkout, check=True)
    return checkout


@pytest.mark.slow
def test_the_first_command_generates_the_demo_outside_the_checkout(tmp_path: Path) -> None:
    [first] = console_blocks(README)[0].strip().splitlines()
    assert "scaffold new demo" in first
    checkout = checkout_copy(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run(
        ["bash", "-c", first], cwd=checkout, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored=no"],
        cwd=checkout,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert status == "", "the README's first command wrote into the checkout"
    assert (tmp_path / "demo" / ".copier-answers.yml").is_file()
    assert "--output-dir" in README.split("```console", 1)[0], "the README says where it goes"


@pytest.mark.slow
@pytest.mark.services
def test_scripts_test_ends_by_saying_how_to_stop_the_services() -> None:
    done = subprocess.run(
        [str(ROOT / "scripts" / "test"), "--collect-only", "-q", "tests/test_readme.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "still running" in last
    assert last.endswith("scripts/services down")


def test_the_readme_names_what_scripts_test_needs() -> None:
    tests_section = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    for needed in ["Python 3.11", "git", "Go", "actionlint", "Terraform", "Java", "Maven"]:
        assert needed in tests_section, needed
    assert "apt-get" in tests_section and "root" in tests_section
    assert "scripts/services down" in tests_section


def test_the_readme_shows_the_tool_install_route() -> None:
    commands = "\n".join(console_blocks(README))
    assert "uv tool install dist/service_scaffold-" in commands
    assert "pipx install dist/service_scaffold-" in commands
