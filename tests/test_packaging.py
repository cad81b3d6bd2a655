"""The wheel carries the template, installs as a tool, and the CLI starts without the engine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scaffold import __version__

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "service-scaffold"  # "scaffold" on PyPI is someone else's project


def test_help_does_not_import_copier_or_questionary() -> None:
    probe = (
        "import sys; from scaffold.cli import app; "
        "print(sorted({'copier', 'questionary', 'jinja2'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    uv = shutil.which("uv")
    assert uv is not None, "uv is needed to build the wheel (scripts/test installs it)"
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), str(ROOT)], check=True, capture_output=True
    )
    [built] = out.glob(f"{DISTRIBUTION.replace('-', '_')}-*.whl")
    return built


def test_the_wheel_is_the_service_scaffold_distribution_with_a_scaffold_command(
    wheel: Path,
) -> None:
    archive = zipfile.ZipFile(wheel)
    [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    headers = archive.read(metadata).decode()
    assert f"Name: {DISTRIBUTION}\n" in headers
    assert f"Version: {__version__}\n" in headers
    [entry_points] = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert "scaffold = scaffold.cli:main" in archive.read(entry_points).decode()


def test_the_wheel_ships_every_template_file(wheel: Path) -> None:
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("scaffold/templates/")}
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "templates"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split("\0")[:-1]
    assert tracked, "no template files tracked"
    assert {f"scaffold/{path}" for path in tracked} <= shipped
    assert "scaffold/service_modules.txt" in zipfile.ZipFile(wheel).namelist()  # names.py reads it


def test_the_installed_wheel_generates_without_the_checkout(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "elsewhere"
    work.mkdir()
    program = (
        f"import sys; sys.path.insert(0, {str(site)!r}); "
        "import scaffold; from scaffold.cli import main; "
        f"assert scaffold.__file__.startswith({str(site)!r}), scaffold.__file__; "
        "sys.argv = ['scaffold', 'new', 'demo', '--yes', '--json']; main()"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", program], cwd=work, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert str(site) in done.stdout  # the template used is the one inside the wheel
    assert (work / "demo" / ".copier-answers.yml").is_file()


def test_uv_tool_install_of_the_wheel_gives_a_scaffold_command(wheel: Path, tmp_path: Path) -> None:
    """The README's route: `uv tool install <wheel>`, then `scaffold new` from anywhere."""
    uv = shutil.which("uv")
    assert uv is not None, "uv is needed (scripts/test installs it)"
    tools, bin_dir, work = tmp_path / "tools", tmp_path / "bin", tmp_path / "work"
    work.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}},
        "UV_TOOL_DIR": str(tools),
        "UV_TOOL_BIN_DIR": str(bin_dir),
    }
    install = [uv, "tool", "install", "--quiet", "--python", "3.11", str(wheel)]
    subprocess.run(install, env=env, check=True, capture_output=True)
    listed = subprocess.run(
        [uv, "tool", "list"], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert listed.splitlines()[:2] == [f"{DISTRIBUTION} v{__version__}", "- scaffold"]

    scaffold = bin_dir / "scaffold"
    version = subprocess.run(
        [str(scaffold), "--version"], cwd=work, env=env, check=True, capture_output=True, text=True
    )
    assert version.stdout == f"scaffold {__version__}\n"
    created = subprocess.run(
        [str(scaffold), "new", "demo", "--yes", "--json"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    assert str(tools) in json.loads(created.stdout)["template_location"]  # the tool's own copy
    assert (work / "demo" / ".copier-answers.yml").is_file()
