"""What a traced run is keyed by: an import depends on the names it looked up in a package
folder, not on the folder's other names; a listing by anything but the import system depends on
every name (child/read_trace.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.matrix.reuse import Manifest
from tests.matrix.runner import CHILD
from tests.matrix.runtime_parts import manifest_of

TRACED = """\
import sys
from pathlib import Path

sys.path.insert(0, {child!r})
import read_trace

trace = read_trace.ReadTrace({root!r})
trace.install()
sys.path.insert(0, {root!r})
try:
    exec({code!r})
finally:
    trace.write(Path({out!r}))
"""


def traced(root: Path, code: str, tmp_path: Path) -> Manifest:
    """The manifest of ``code`` run in a fresh interpreter, traced below ``root``."""
    out = tmp_path / "trace.json"
    script = TRACED.format(child=str(CHILD), root=str(root), code=code, out=str(out))
    subprocess.run([sys.executable, "-B", "-c", script], cwd=root, check=True)
    manifest = manifest_of([out])
    assert manifest is not None, out.read_text()
    return manifest


def package(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "a.py").write_text("A = 1\n")
    (root / "pkg" / "b.py").write_text("B = 2\n")
    return root


def test_an_import_does_not_depend_on_a_sibling_module(tmp_path: Path) -> None:
    root = package(tmp_path)
    manifest = traced(root, "import pkg.a\nassert pkg.a.A == 1\n", tmp_path)
    before = manifest.key(root)
    (root / "pkg" / "b.py").unlink()
    (root / "pkg" / "c.py").write_text("C = 3\n")
    assert manifest.key(root) == before
    (root / "pkg" / "a.py").write_text("A = 2\n")  # what it imported: in the key
    assert manifest.key(root) != before


def test_an_import_depends_on_the_absent_names_it_looked_up(tmp_path: Path) -> None:
    root = package(tmp_path)
    code = "try:\n    import pkg.missing\nexcept ImportError:\n    pass\n"
    manifest = traced(root, code, tmp_path)
    before = manifest.key(root)
    (root / "pkg" / "unrelated.py").write_text("")
    assert manifest.key(root) == before
    (root / "pkg" / "missing.py").write_text("")
    assert manifest.key(root) != before
    (root / "pkg" / "missing.py").unlink()
    (root / "pkg" / "missing").mkdir()  # a namespace package would be found now
    assert manifest.key(root) != before


def test_a_listing_by_the_code_itself_depends_on_every_name(tmp_path: Path) -> None:
    root = package(tmp_path)
    manifest = traced(root, "import os\nos.listdir('pkg')\n", tmp_path)
    before = manifest.key(root)
    (root / "pkg" / "c.py").write_text("")
    assert manifest.key(root) != before


def test_a_scan_by_the_code_itself_after_an_import_depends_on_every_name(tmp_path: Path) -> None:
    """The import system's cache of a folder is not the code's own listing of it."""
    root = package(tmp_path)
    code = "import pkg.a, pkgutil\nlist(pkgutil.iter_modules(pkg.__path__))\n"
    manifest = traced(root, code, tmp_path)
    before = manifest.key(root)
    (root / "pkg" / "c.py").write_text("")
    assert manifest.key(root) != before
