"""A small Copier template in a local git repository, for lifecycle tests that render a lot.

It asks what the packaged template asks about capabilities (the catalog's available ones), but
renders in a fraction of the time. What it holds, and why:
- `src/app/main.py`: each capability's wiring line, far apart so that git merges two branches
  that each added one without a conflict; v2 changes lines in the middle;
- `src/app/<capability>/`: each capability's own package, rendered only with it;
- `scripts/run.bat` with CRLF line ends and `assets/logo.bin` (binary), both changed in v2;
- a `.gitignore` that ignores `*.bin`, its own `logo.bin` included.
v2 also deletes `settings.txt`, renames `docs/guide.txt` and adds `CHANGELOG.md` and
`compose.override.yml`.
"""

from __future__ import annotations

from pathlib import Path

from scaffold.catalog import CATALOG
from tests.support.team_template import make_template_repo, release

CAPABILITIES = tuple(c.name for c in CATALOG.available)
MAIN = "src/app/main.py"
BATCH = "scripts/run.bat"
LOGO = "assets/logo.bin"
ADDED_IN_V2 = ("CHANGELOG.md", "compose.override.yml")
DELETED_IN_V2 = "settings.txt"
RENAMED_IN_V2 = ("docs/guide.txt", "docs/handbook.txt")
LOGO_V1 = bytes(range(256)) * 4
LOGO_V2 = bytes(reversed(range(256))) * 4


def numbered(stem: str, count: int, end: str = "\n") -> str:
    return "".join(f"{stem} line {i:02d}{end}" for i in range(1, count + 1))


def package(capability: str) -> str:
    """The folder of a capability's own package in a rendered project."""
    return f"src/app/{capability}"


def _main_template() -> str:
    first, last = CAPABILITIES[0], CAPABILITIES[-1]
    return (
        "main line 01\n"
        f"{{% if {first} %}}from app.{first} import client  # {first} wiring\n{{% endif %}}"
        + numbered("main", 14)[len("main line 01\n") :]
        + f"{{% if {last} %}}from app.{last} import client  # {last} wiring\n{{% endif %}}"
    )


def files_v1(answers_file: str = ".copier-answers.yml") -> dict[str, str | bytes]:
    questions = "".join(f"{name}:\n  type: bool\n  default: false\n" for name in CAPABILITIES)
    files: dict[str, str | bytes] = {
        "copier.yml": (
            f"_subdirectory: project\n_answers_file: {answers_file}\n"
            f"project_name:\n  type: str\n  default: demo\n{questions}"
        ),
        "project/{{_copier_conf.answers_file}}.jinja": (
            "# Changes here will be overwritten by Copier\n{{ _copier_answers|to_nice_yaml -}}\n"
        ),
        "project/README.md.jinja": "# {{ project_name }}\n\n" + numbered("readme", 8),
        "project/src/app/__init__.py": "",
        f"project/{MAIN}.jinja": _main_template(),
        f"project/{DELETED_IN_V2}": numbered("settings", 8),
        f"project/{RENAMED_IN_V2[0]}": numbered("guide", 12),
        "project/config.ini": numbered("config", 8),
        f"project/{BATCH}": numbered("batch", 6, end="\r\n").encode(),
        f"project/{LOGO}": LOGO_V1,
        "project/.gitignore": "*.bin\n",
    }
    for name in CAPABILITIES:
        own = f"project/src/app/{{% if {name} %}}{name}{{% endif %}}"
        files[f"{own}/__init__.py"] = ""
        files[f"{own}/client.py"] = numbered(f"{name} client", 6)
    return files


def release_v2(project: Path) -> None:
    main = project / f"{MAIN}.jinja"
    lines = main.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[6] = "main line 06, improved in v2\n"
    lines.insert(8, "main line added in v2\n")
    main.write_text("".join(lines), encoding="utf-8")
    (project / DELETED_IN_V2).unlink()
    (project / RENAMED_IN_V2[0]).rename(project / RENAMED_IN_V2[1])
    (project / ADDED_IN_V2[0]).write_text(numbered("changelog", 3), encoding="utf-8")
    (project / ADDED_IN_V2[1]).write_text("services: {}\n", encoding="utf-8")
    batch = (project / BATCH).read_bytes().replace(b"batch line 03", b"batch line 03 in v2")
    (project / BATCH).write_bytes(batch)
    (project / LOGO).write_bytes(LOGO_V2)


def make_toy_template(folder: Path, answers_file: str = ".copier-answers.yml") -> Path:
    """The template in a git repository tagged v1; `release_toy_v2` makes v2."""
    source = folder.with_name(folder.name + "-source")
    for name, content in files_v1(answers_file).items():
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return make_template_repo(folder, source)


def release_toy_v2(template: Path) -> None:
    release(template, "v2", release_v2)
