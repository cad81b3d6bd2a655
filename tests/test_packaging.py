"""The wheel carries the template, and the CLI starts without importing the heavy engine."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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
    [built] = out.glob("scaffold-*.whl")
    return built


def test_the_wheel_ships_every_template_file(wheel: Path) -> None:
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("scaffold/templates/")}
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "templates"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split("\0")[:-1]
    assert tracked, "no template files tracked"
    assert {f"scaffold/{path}" for path in tracked} <= shipped


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
