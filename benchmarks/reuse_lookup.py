"""CPU seconds of one combination's tier 2 lookups (tests/matrix/reuse.py, ``Store.find``) in
a reuse store as large as a long matrix run leaves it, next to a lookup that re-reads every
stored entry and every path per manifest (the lookup before the memo), alternating in one run.

Run: .venv/bin/python benchmarks/reuse_lookup.py [--combinations 288] [--rounds 3]

The store is made here: a rendered project (caching alone) is the tree; each combination stores
one service-group entry whose manifest names the tree's files read plus a file of its own (as
each combination's capability list differs), and ~1,500 probed paths (what the imports probed);
every lookup misses, so it compares against every entry, as a new combination does. Both
lookups must give the same answer. Numbers only; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scaffold.selection import Selection  # noqa: E402
from tests.matrix.content import files_under  # noqa: E402
from tests.matrix.reuse import Manifest, Result, Store  # noqa: E402
from tests.matrix.workspace import render  # noqa: E402

PROBED_PER_MANIFEST = 1500


def without_memo(store: Store, kind: str, primary: str, root: Path) -> Result | None:
    """The lookup as it was: every entry parsed and its manifest's paths read again."""
    for entry_path in sorted((store.folder / kind / primary).glob("*.json")):
        entry = json.loads(entry_path.read_text(encoding="utf-8"))
        if Manifest(**entry["manifest"]).key(root) == entry_path.stem:
            return Result(**entry["result"])
    return None


def fill(store: Store, project: Path, combinations: int) -> None:
    files = [f for f in files_under(project) if not f.startswith(".")]
    probed = sorted(f"src/matrix_svc/probe_{n}/{name}" for n in range(30) for name in files[:50])
    for number in range(combinations):
        own = f"src/matrix_svc/own_{number}.py"
        (project / own).write_text(f"# combination {number}\n", encoding="utf-8")
        manifest = Manifest(sorted([*files, own]), probed[:PROBED_PER_MANIFEST])
        result = Result("passed", "", f"combination-{number}", 1.0)
        store.record("runtime-group", "service", project, manifest, result)
        (project / own).unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--combinations", type=int, default=288)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        caching = Selection(capabilities=frozenset({"caching"}), variants={})
        project = render(caching, folder / "render", None)
        fill(Store(folder / "store"), project, options.combinations)
        times: dict[str, list[float]] = {"memo (this tree)": [], "without memo": []}
        store = Store(folder / "store")  # one per worker, as the matrix's session fixture
        for _ in range(options.rounds):
            for name, spent in times.items():
                started = time.process_time()
                if name == "without memo":
                    found = without_memo(store, "runtime-group", "service", project)
                else:
                    found = store.find("runtime-group", "service", project)
                spent.append(time.process_time() - started)
                assert found is None
    print(f"one part's lookup among {options.combinations} stored entries, all missed:")
    for name, values in times.items():
        print(f"  {name:18} median {statistics.median(values):.3f} CPU-s ({len(values)} rounds)")


if __name__ == "__main__":
    main()
