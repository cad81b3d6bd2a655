"""The narrow-collection plugin keeps a run of some test folders from listing their neighbours,
and runs the same tests as pytest alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.matrix.runner import CHILD

RUN = """\
import json, os, sys
listed = []
sys.addaudithook(lambda event, args: listed.append(os.path.relpath(os.fsdecode(args[0])))
                 if event == "os.scandir" and args[0] else None)
import pytest
code = pytest.main(["-q", "-p", "no:cacheprovider", "--collect-only", *sys.argv[2:]])
json.dump({"code": code, "listed": sorted(set(listed))}, open(sys.argv[1], "w"))
"""


def project(root: Path) -> Path:
    (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    for kind in ("integration", "unit"):
        (root / "tests" / kind).mkdir(parents=True)
        (root / "tests" / kind / "__init__.py").write_text("", encoding="utf-8")
        for group in ("cache", "release"):
            folder = root / "tests" / kind / group
            folder.mkdir()
            (folder / "__init__.py").write_text("", encoding="utf-8")
            (folder / f"test_{kind}_{group}.py").write_text(
                "def test_one() -> None:\n    assert True\n", encoding="utf-8"
            )
        (root / "tests" / kind / f"test_{kind}_service.py").write_text(
            "def test_service() -> None:\n    assert True\n", encoding="utf-8"
        )
    (root / "tests" / "__init__.py").write_text("", encoding="utf-8")
    return root


def collect(root: Path, *arguments: str) -> tuple[list[str], list[str]]:
    """The collected test ids and the folders listed while collecting."""
    report = root / "report.json"
    script = root / "run.py"
    script.write_text(RUN, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(report), *arguments],
        cwd=root,
        env={"PYTHONPATH": str(CHILD), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    result = json.loads(report.read_text(encoding="utf-8"))
    assert result["code"] == 0, done.stdout + done.stderr
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    return ids, result["listed"]


def test_a_groups_run_lists_only_its_own_folders_and_collects_the_same_tests(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    group = ["tests/integration/release", "tests/unit/release"]

    plain_ids, plain_listed = collect(root, *group)
    narrow_ids, narrow_listed = collect(root, "-p", "narrow_collect", *group)

    assert narrow_ids == plain_ids
    assert len(plain_ids) == 2
    assert "tests/integration" in plain_listed  # pytest alone lists the neighbours' folder
    assert "tests/integration" not in narrow_listed
    assert "tests/unit" not in narrow_listed
    assert "tests/integration/release" in narrow_listed


def test_a_run_of_a_whole_folder_is_collected_as_usual(tmp_path: Path) -> None:
    root = project(tmp_path)

    plain_ids, _ = collect(root, "tests")
    narrow_ids, narrow_listed = collect(root, "-p", "narrow_collect", "tests")
    single_ids, _ = collect(root, "-p", "narrow_collect", "tests/unit/test_unit_service.py")

    assert narrow_ids == plain_ids
    assert len(plain_ids) == 6
    assert "tests/integration" in narrow_listed
    assert single_ids == ["tests/unit/test_unit_service.py::test_service"]
