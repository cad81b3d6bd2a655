"""Per-combination results of the matrix, merged across xdist workers into JSON and markdown."""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

OUT = Path(
    os.environ.get("SCAFFOLD_MATRIX_REPORT")
    or Path(__file__).resolve().parents[2] / "build" / "matrix"
)


def record(entry: dict[str, object]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with (OUT / f"results-{worker}.jsonl").open("a", encoding="utf-8") as sink:
        sink.write(json.dumps(entry) + "\n")


def reset() -> None:
    for stale in OUT.glob("results-*.jsonl"):
        stale.unlink()


def merge(wall_seconds: float) -> str | None:
    """Write report.json and report.md; return the markdown, or None when nothing ran."""
    entries = [
        json.loads(line)
        for part in sorted(OUT.glob("results-*.jsonl"))
        for line in part.read_text(encoding="utf-8").splitlines()
    ]
    if not entries:
        return None
    entries.sort(key=lambda e: str(e["id"]))
    seconds = [float(e["tier1_seconds"]) + float(e["tier2_seconds"]) for e in entries]
    passed = sum(1 for e in entries if e["tier1"] == "passed" and e["tier2"] != "failed")
    totals = {
        "combinations": len(entries),
        "passed": passed,
        "failed": len(entries) - passed,
        "wall_seconds": round(wall_seconds, 1),
        "median_seconds_per_combination": round(statistics.median(seconds), 1),
    }
    (OUT / "report.json").write_text(
        json.dumps({"totals": totals, "combinations": entries}, indent=2)
    )
    lines = [
        "| combination | tier 1 | s | tier 2 | s |",
        "|---|---|---|---|---|",
        *(
            f"| `{e['id']}` | {e['tier1']} | {e['tier1_seconds']} "
            f"| {e['tier2']} | {e['tier2_seconds']} |"
            for e in entries
        ),
        "",
        f"{totals['combinations']} combinations: {passed} passed, {totals['failed']} failed; "
        f"wall {totals['wall_seconds']} s, median {totals['median_seconds_per_combination']} s "
        "per combination",
    ]
    markdown = "\n".join(lines) + "\n"
    (OUT / "report.md").write_text(markdown)
    return markdown
