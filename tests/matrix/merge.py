"""Merge the reports of CI shards: ``python -m tests.matrix.merge SHARD_DIR... --out DIR``.

Each shard folder holds the ``results-*.jsonl`` of one ``--matrix-shard i/n`` run. The merged
report is written to ``--out``. Exit 1, with one line on stderr, when a combination ran twice,
when one failed, or (``--expect-every-combination``) when one of the full matrix is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from scaffold.matrix import combinations
from tests.matrix import report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.matrix.merge")
    parser.add_argument("shards", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--expect-every-combination", action="store_true")
    options = parser.parse_args(argv)
    entries = [entry for folder in options.shards for entry in report.read_entries(folder)]
    walls = [
        json.loads((folder / "report.json").read_text())["totals"]["wall_seconds"]
        for folder in options.shards
        if (folder / "report.json").is_file()
    ]
    if not entries:
        print("merge: no results-*.jsonl in the shard folders", file=sys.stderr)
        return 1
    report.write(report.summarise(entries, max(walls, default=0.0)), options.out)
    twice = sorted(label for label, n in Counter(e["id"] for e in entries).items() if n > 1)
    missing = sorted({s.label() for s in combinations()} - {e["id"] for e in entries})
    failed = sorted(e["id"] for e in entries if not report.passed(e))
    problem = (
        f"ran more than once: {twice}" if twice
        else f"missing: {missing}" if missing and options.expect_every_combination
        else f"failed: {failed}" if failed
        else ""
    )  # fmt: skip
    if problem:
        print(f"merge: {problem} (report: {options.out / 'report.md'})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
