"""Keep the files derived from the catalog in step with it (a maintainer's command).

``python -m scaffold.sync --write`` rewrites them; without ``--write`` it exits 1 when one
differs. ``tests/test_sync.py`` runs the check.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scaffold.capability_table import replace_table
from scaffold.copier_questions import render_copier_yml
from scaffold.template_source import packaged_template


def derived_files() -> dict[Path, str]:
    """Each derived file and the text it should hold."""
    template = packaged_template()
    readme = template.parents[1] / "README.md"
    return {
        template / "copier.yml": render_copier_yml(),
        readme: replace_table(readme.read_text(encoding="utf-8")),
    }


def stale_files() -> list[Path]:
    return [p for p, text in derived_files().items() if p.read_text(encoding="utf-8") != text]


def main(argv: list[str]) -> int:
    if "--write" in argv:
        for path, text in derived_files().items():
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        return 0
    stale = stale_files()
    for path in stale:
        print(f"{path} is out of date; run: python -m scaffold.sync --write")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
