"""The template keeps capabilities out of its shared files: they plug in through the protocol.

A template file belongs to a part (a capability or a backing service) when its path renders
only with that part (`{% if caching %}cache{% endif %}/...`); every other file is shared. Shared
Python files may reach the capabilities only through the generated lists (`python_packages`,
`parts`), never through a condition on one capability or an import of its package.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import jinja2
from jinja2 import nodes

from scaffold.catalog import CATALOG
from scaffold.copier_questions import service_conditions, wiring_packages
from scaffold.template_source import packaged_template

PROJECT = packaged_template() / "project"
PACKAGE_DIR = ("src", "{{ package_name }}")
CONDITIONAL = re.compile(r"\{%\s*if\s+(.+?)\s*%\}(.*?)\{%\s*endif\s*%\}")
SHARED_VARIABLES = {"package_name", "project_name", "description", "python_packages", "parts"}
PYTHON_SUFFIXES = (".py", ".py.jinja")


def part_names() -> set[str]:
    return (
        set(CATALOG.names)
        | {f"needs_{s}" for s in service_conditions()}
        | set(service_conditions())
    )


def packages() -> set[str]:
    return {package for package, _ in wiring_packages()} | {c.package for c in CATALOG if c.package}


def template_files(suffixes: tuple[str, ...]) -> Iterator[Path]:
    """Files whose rendered name ends with one of `suffixes` (before `.jinja` is dropped)."""
    for path in sorted(PROJECT.rglob("*")):
        if path.is_file() and CONDITIONAL.sub(r"\2", path.name).endswith(suffixes):
            yield path.relative_to(PROJECT)


def conditions_in(relative: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in CONDITIONAL.finditer(str(relative))]


def variables(source: str) -> set[str]:
    tree = jinja2.Environment().parse(source)
    return {name.name for name in tree.find_all(nodes.Name) if name.ctx == "load"}


def shared_python_files() -> list[Path]:
    return [p for p in template_files(PYTHON_SUFFIXES) if not conditions_in(p)]


def test_the_template_has_shared_and_capability_python_files() -> None:
    shared = shared_python_files()
    owned = [p for p in template_files(PYTHON_SUFFIXES) if conditions_in(p)]
    assert len(shared) > 20
    assert owned, "no capability files found: the classification is broken"
    assert Path(*PACKAGE_DIR, "main.py") in shared


def test_shared_python_files_use_only_the_generated_lists() -> None:
    for relative in shared_python_files():
        source = (PROJECT / relative).read_text(encoding="utf-8")
        used = variables(source) - {"part", "package", "loop"}  # loop variables over the lists
        assert used <= SHARED_VARIABLES, f"{relative} reads {sorted(used - SHARED_VARIABLES)}"


def test_shared_python_files_import_no_capability_package() -> None:
    imports = re.compile(
        r"^\s*(?:from\s+\.+(\w+)|from\s+\{\{ package_name \}\}\.(\w+)|import\s+(\w+))", re.M
    )
    for relative in shared_python_files():
        source = (PROJECT / relative).read_text(encoding="utf-8")
        named = {name for match in imports.finditer(source) for name in match.groups() if name}
        assert not named & packages(), f"{relative} imports {sorted(named & packages())}"


def test_shared_files_never_test_one_capability() -> None:
    """No `{% if caching %}` in any shared file, Python or not: parts contribute their own files."""
    for relative in template_files(("",)):
        if conditions_in(relative):
            continue
        source = (PROJECT / relative).read_text(encoding="utf-8", errors="replace")
        tested = set()
        for block in re.finditer(r"\{%-?\s*(?:if|elif)\s+([^%]+?)-?%\}", source):
            tested |= set(re.findall(r"[a-z_]+", block.group(1)))
        assert not tested & part_names(), f"{relative} tests {sorted(tested & part_names())}"


def test_capability_python_lives_in_its_own_package_or_tests() -> None:
    for relative in template_files(PYTHON_SUFFIXES):
        if not conditions_in(relative):
            continue
        parts = relative.parts
        if parts[:2] == PACKAGE_DIR:
            folder = conditions_in(Path(parts[2]))
            assert len(parts) > 3 and folder and folder[0][1] in packages(), (
                f"{relative}: a capability's code lives in its package folder "
                "`src/{{ package_name }}/{% if <cap> %}<package>{% endif %}/`"
            )
        else:
            assert parts[0] in {"tests", "migrations"}, (
                f"{relative}: not in src, tests or migrations"
            )


def test_each_capability_package_declares_its_protocol_object_and_settings() -> None:
    """A capability with a runtime part declares its protocol object and settings section; one
    without (`Capability.runtime`: the release tool) declares neither, the service never
    imports its package."""
    package_root = PROJECT.joinpath(*PACKAGE_DIR)
    folders = [p for p in package_root.iterdir() if p.is_dir() and conditions_in(Path(p.name))]
    tools = {c.package for c in CATALOG if c.package and not c.wired_package}
    assert folders
    assert tools, "no capability without a runtime part: this test's branch is untested"
    for folder in folders:
        package = conditions_in(Path(folder.name))[0][1]
        capability = folder / "capability.py"
        config = [p for p in folder.iterdir() if p.name in {"config.py", "config.py.jinja"}]
        if package in tools:
            assert not capability.exists() and not config, (
                f"{folder.name}: no runtime part, yet a protocol object or settings section"
            )
            continue
        assert capability.is_file(), f"{folder.name}: no capability.py"
        assert "CAPABILITY = Capability(" in capability.read_text(encoding="utf-8")
        assert config, f"{folder.name}: no config.py (its settings section)"
        assert "class Settings(BaseSettings)" in config[0].read_text(encoding="utf-8")


def test_the_generated_lists_leave_out_capabilities_without_a_runtime_part() -> None:
    wired = {package for package, _ in wiring_packages()}
    for capability in CATALOG.available:
        if capability.package:
            assert (capability.package in wired) == capability.runtime, capability.name
