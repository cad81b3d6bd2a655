"""What a generated service installs, read from the template's own dependency declarations.

A project named like one of these shadows it: the service's ``import redis`` would find the
project's own package, and uv refuses a project that depends on a distribution of its own name.
Nothing here is a hand list; two sources, both derived from the packaged template:

- the declarations themselves: every pyproject, requirements or lock file under the template,
  every branch of its Jinja conditions. Each distribution gives its normalised name and its
  top-level namespace (``pydantic_settings`` and ``pydantic`` for ``pydantic-settings``,
  ``opentelemetry`` for ``opentelemetry-api``).
- ``service_modules.txt``: the modules of everything a resolution of those declarations installs,
  transitive dependencies included (``starlette`` comes with ``fastapi``, ``yaml`` with
  ``uvicorn[standard]``). ``python -m scaffold.service_dependencies --write`` rewrites it;
  ``tests/test_service_dependencies.py`` fails when the declarations change without it.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from scaffold.template_source import packaged_template

MODULES_FILE = Path(__file__).with_name("service_modules.txt")
DECLARED_PREFIX = "# declared: "

_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?")
_JINJA_STATEMENT = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_JINJA_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.DOTALL)


@dataclass(frozen=True)
class Shadowed:
    """The names a project must not take, each with the distribution that owns it."""

    modules: dict[str, str]
    distributions: frozenset[str]


def normalise(distribution: str) -> str:
    """PEP 503's form of a distribution name: ``Pydantic_Settings`` -> ``pydantic-settings``."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


@functools.cache
def shadowed() -> Shadowed:
    """Read once per process: what the packaged template's services install."""
    modules: dict[str, str] = {}
    namespaces: dict[str, str] = {}
    distributions: set[str] = set()
    for requirement in declared_requirements(packaged_template()):
        distribution = normalise(requirement_name(requirement))
        distributions.add(distribution)
        module = distribution.replace("-", "_")
        modules[module] = distribution
        namespaces.setdefault(module.split("_")[0], distribution)
    for distribution, provided in resolved_modules().items():
        distributions.add(distribution)
        for module in provided:
            modules.setdefault(module, distribution)
    modules = {**namespaces, **modules}  # a module's own distribution before a namespace's
    return Shadowed(modules, frozenset(distributions))


def requirement_name(requirement: str) -> str:
    """``uvicorn[standard]>=0.54`` -> ``uvicorn``."""
    match = _REQUIREMENT.match(requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return match.group(1)


def requirement_key(requirement: str) -> str:
    """The part of a requirement that decides what gets installed: name and extras."""
    match = _REQUIREMENT.match(requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    extras = sorted(e.strip().lower() for e in (match.group(2) or "[]")[1:-1].split(",") if e)
    return normalise(match.group(1)) + (f"[{','.join(extras)}]" if extras else "")


def declared_requirements(template: Path) -> list[str]:
    """Every requirement any combination of the template declares, sorted and deduplicated."""
    found: set[str] = set()
    for path in sorted(template.rglob("*")):
        kind = _dependency_file_kind(path)
        if kind == "requirements":
            found.update(_requirement_lines(_read(path)))
        elif kind == "toml":
            found.update(_toml_requirements(_load_toml(path), ()))
    return sorted(found)


def _load_toml(path: Path) -> dict[str, object]:
    """A TOML file, or a fragment of array items that a shared file includes into its list
    (``parts/<part>/pyproject.dependencies.toml``)."""
    text = _read(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        try:
            return tomllib.loads(f"dependencies = [\n{text}\n]")
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path}: neither TOML nor a list of requirements: {error}") from None


def _dependency_file_kind(path: Path) -> str | None:
    name = _JINJA_STATEMENT.sub("", path.name).removesuffix(".jinja")
    if name.endswith((".toml", ".lock")):
        kind = "toml"
    elif name.startswith("requirements") and name.endswith((".txt", ".in")):
        kind = "requirements"
    else:
        return None
    return kind if path.is_file() else None


def _read(path: Path) -> str:
    """The file with every Jinja branch kept and each expression a value TOML accepts."""
    text = path.read_text(encoding="utf-8")
    if path.name.endswith(".jinja"):
        text = _JINJA_EXPRESSION.sub("0", _JINJA_STATEMENT.sub("", text))
    return text


def _requirement_lines(text: str) -> Iterator[str]:
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            yield line


def _toml_requirements(data: object, path: tuple[str, ...]) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _toml_requirements(value, (*path, key))
    elif isinstance(data, list):
        if _is_requirement_list(path):
            yield from (item for item in data if isinstance(item, str))
        elif path == ("package",):  # uv.lock: every distribution of the resolution
            yield from (item["name"] for item in data if isinstance(item, dict) and "name" in item)
        else:
            for item in data:
                yield from _toml_requirements(item, path)


def _is_requirement_list(path: tuple[str, ...]) -> bool:
    return (
        path[-1:] == ("dependencies",)
        or path[:1] == ("dependency-groups",)
        or path[:2] == ("project", "optional-dependencies")
    )


def resolved_modules(text: str | None = None) -> dict[str, frozenset[str]]:
    """``service_modules.txt``: distribution -> the top-level modules it installs."""
    if text is None:
        text = MODULES_FILE.read_text(encoding="utf-8")
    table: dict[str, frozenset[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            distribution, _, modules = line.partition(":")
            table[distribution.strip()] = frozenset(modules.split())
    return table


def recorded_declarations(text: str | None = None) -> list[str]:
    """The requirement keys ``service_modules.txt`` was resolved from."""
    if text is None:
        text = MODULES_FILE.read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith(DECLARED_PREFIX):
            return line.removeprefix(DECLARED_PREFIX).split()
    return []


def current_declarations() -> list[str]:
    return sorted({requirement_key(r) for r in declared_requirements(packaged_template())})


def render_modules_file(declarations: Iterable[str], installed: dict[str, frozenset[str]]) -> str:
    lines = [
        "# Generated by `python -m scaffold.service_dependencies --write`; do not edit by hand.",
        "# The top-level modules of every distribution that installing the template's declared",
        "# dependencies (all capabilities, runtime and dev) brings, transitive ones included.",
        "# A project name equal to one of them is refused (scaffold/names.py).",
        DECLARED_PREFIX + " ".join(sorted(declarations)),
    ]
    lines += [f"{name}: {' '.join(sorted(installed[name]))}" for name in sorted(installed)]
    return "\n".join(lines) + "\n"


def installed_modules(site_packages: Path) -> dict[str, frozenset[str]]:
    """Each distribution installed in ``site_packages`` -> the top-level modules it provides."""
    from importlib.metadata import distributions

    table: dict[str, frozenset[str]] = {}
    for dist in distributions(path=[str(site_packages)]):
        tops = {_top_level(Path(str(f))) for f in dist.files or ()}
        table[normalise(dist.metadata["Name"])] = frozenset(t for t in tops if t)
    return table


def _top_level(file: Path) -> str | None:
    first = file.parts[0]
    if first == ".." or first.endswith((".dist-info", ".data", ".pth")) or first == "__pycache__":
        return None
    name = first.split(".")[0] if len(file.parts) == 1 else first
    return name if name.isidentifier() else None


def write_modules_file() -> str:
    """Install the declared requirements into a scratch environment and record what arrives."""
    import shutil
    import subprocess
    import sys
    import tempfile

    uv = shutil.which("uv")
    if uv is None:
        sys.exit("uv is needed: python3 -m pip install uv")
    requirements = declared_requirements(packaged_template())
    with tempfile.TemporaryDirectory() as scratch:
        venv = Path(scratch) / "venv"
        subprocess.run([uv, "venv", "--quiet", "--python", "3.11", str(venv)], check=True)
        python = venv / "bin" / "python"
        subprocess.run(
            [uv, "pip", "install", "--quiet", "--python", str(python), *requirements], check=True
        )
        [site] = (venv / "lib").glob("python3*/site-packages")
        text = render_modules_file(current_declarations(), installed_modules(site))
    MODULES_FILE.write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m scaffold.service_dependencies --write")
    write_modules_file()
    print(f"wrote {MODULES_FILE}")
