"""Python modules a change deletes that the project's own code still imports.

The modules are found from the generations themselves: a `.py` file below `src/` that the old
generation has and the new one lacks (for `remove`, exactly the files the template renders only
with that capability). The importers are the merged tree's Python files that differ from the
new generation: the user's own files and template files the user edited.
"""

from __future__ import annotations

import ast
import re
import subprocess
from collections.abc import Iterable
from pathlib import PurePosixPath

from scaffold.lifecycle.trees import Trees

_IMPORT_LINE = re.compile(r"^\s*(?:from\s+(\.*[\w.]*)\s+import\s+([\w, ()]+)|import\s+([\w., ]+))")


def removed_modules(trees: Trees, old_service: str, new_service: str) -> list[str]:
    gone = trees.files(old_service).keys() - trees.files(new_service).keys()
    return sorted(filter(None, (module_name(path) for path in gone)))


def module_name(path: str) -> str | None:
    parts = PurePosixPath(path).parts
    if len(parts) < 2 or parts[0] != "src" or not path.endswith(".py"):
        return None
    names = [*parts[1:-1], parts[-1].removesuffix(".py")]
    return ".".join(names[:-1] if names[-1] == "__init__" else names)


def importers(
    trees: Trees, merged_service: str, new_service: str, modules: list[str]
) -> dict[str, list[str]]:
    """Service paths of the files importing any of ``modules`` -> the modules they import."""
    new = trees.files(new_service)
    candidates = {
        path: entry.split()[1]
        for path, entry in trees.files(merged_service).items()
        if path.endswith(".py") and new.get(path) != entry
    }
    found: dict[str, list[str]] = {}
    for path, text in zip(candidates, _read_blobs(trees, candidates.values()), strict=True):
        hits = sorted(m for m in modules if any(_is_within(i, m) for i in imported(path, text)))
        if hits:
            found[path] = hits
    return found


def imported(path: str, text: str) -> set[str]:
    """Every module name the file imports, relative imports resolved from its package."""
    package = list(PurePosixPath(path).parts[1:-1]) if path.startswith("src/") else []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):  # conflict markers, or not Python 3
        return _imported_by_lines(text, package)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", node.level, package)
            names |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return names


def _imported_by_lines(text: str, package: list[str]) -> set[str]:
    names: set[str] = set()
    for match in filter(None, map(_IMPORT_LINE.match, text.splitlines())):
        if match.group(3):
            names |= {n.strip().split(" ")[0] for n in match.group(3).split(",")}
            continue
        dots = len(match.group(1)) - len(match.group(1).lstrip("."))
        base = _absolute(match.group(1).lstrip("."), dots, package)
        names |= {base, *(f"{base}.{n.strip(' ()')}" for n in match.group(2).split(","))}
    return names


def _absolute(module: str, level: int, package: list[str]) -> str:
    if level == 0:
        return module
    anchor = package[: len(package) - (level - 1)] if level - 1 <= len(package) else []
    return ".".join([*anchor, *filter(None, module.split("."))])


def _is_within(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


def _read_blobs(trees: Trees, oids: Iterable[str]) -> list[str]:
    wanted = list(oids)
    if not wanted:
        return []
    done = subprocess.run(
        ["git", "cat-file", "--batch"], cwd=trees.repo, env=trees.full_env(),
        input="".join(f"{oid}\n" for oid in wanted).encode(), capture_output=True, check=True,
    )  # fmt: skip
    out, texts, at = done.stdout, [], 0
    for _ in wanted:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        texts.append(out[header_end + 1 : header_end + 1 + size].decode("utf-8", "replace"))
        at = header_end + 1 + size + 1
    return texts
