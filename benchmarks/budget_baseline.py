"""Before and after in one run: a rendered project as it would have been at another git ref.

`request_budget.py --baseline REF` runs a configuration twice, from its project and from a copy
holding the service package's plain `.py` files of REF, so a change to the generated code is
measured against the code it replaces, side by side, on the same load.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "bench_svc"


def as_of(project: Path, copy: Path, ref: str, package: str = PACKAGE) -> Path:
    """A copy of `project` whose service package holds the template's plain .py files of `ref`.

    Those files are written as they were at `ref`, and the plain .py files the template has
    gained since are removed, so the copy runs the code a service rendered at `ref` ran (the
    rendered .jinja files are kept: compare refs whose differences are in plain .py files)."""
    shutil.copytree(project, copy)
    package_dir = copy / "src" / package
    template = ROOT / "templates/service/project/src/{{ package_name }}"
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "-r", "--name-only", ref, "--", template],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()  # fmt: skip
    old_files = {
        rendered_path(Path(path).relative_to(template.relative_to(ROOT))): path
        for path in listed
        if is_plain_python(path)
    }
    for rendered, path in old_files.items():
        if (package_dir / rendered).parent.is_dir():  # a capability this project has
            show = ["git", "-C", str(ROOT), "show", f"{ref}:{path}"]
            done = subprocess.run(show, check=True, capture_output=True, text=True)
            (package_dir / rendered).write_text(done.stdout)
    for path in template.rglob("*"):
        rendered = rendered_path(path.relative_to(template))
        if not is_plain_python(path.name) or rendered in old_files:
            continue
        if (package_dir / rendered).is_file():
            (package_dir / rendered).unlink()
    return copy


def is_plain_python(path: str) -> bool:
    """A .py file copied as it is: `x.py`, or one named by a condition, which ends in the
    condition's end (`{% if needs_redis %}x.py{% endif %}`); not a `.jinja` template."""
    return path.endswith((".py", ".py{% endif %}"))


def rendered_path(relative: Path) -> Path:
    """`{% if rate_limiting %}ratelimit{% endif %}/x.py` -> `ratelimit/x.py`."""
    return Path(*(render_folder(part) for part in relative.parts))


def render_folder(part: str) -> str:
    """`{% if rate_limiting %}ratelimit{% endif %}` -> `ratelimit` (the folder it renders to)."""
    if part.startswith("{%"):
        return part.split("%}", 1)[1].split("{%", 1)[0]
    return part
