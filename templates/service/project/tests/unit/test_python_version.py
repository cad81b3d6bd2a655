"""One Python: `.python-version` (what uv and CI use) is what the image runs and what the
project declares, so a version bump cannot stop halfway."""

import re
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def pinned() -> str:
    return (PROJECT_ROOT / ".python-version").read_text(encoding="utf-8").strip()


def test_the_image_runs_the_pinned_python() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    images = re.findall(r"^FROM python:([0-9.]+)-", dockerfile, re.MULTILINE)

    assert images, "no python base image in the Dockerfile"
    assert set(images) == {pinned()}


def test_the_project_declares_the_pinned_python() -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    version = pinned()

    assert pyproject["project"]["requires-python"] == f">={version}"
    assert pyproject["tool"]["mypy"]["python_version"] == version
    assert pyproject["tool"]["ruff"]["target-version"] == f"py{version.replace('.', '')}"
