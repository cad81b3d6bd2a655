"""A runtime part's lookup (tests/matrix/reuse.py, ``Store.find``) over a store that grows with
the run: each path of the tree is read once per lookup however many stored manifests name it,
and a stored entry is parsed once per process unless it is rewritten."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.matrix import content, reuse
from tests.matrix.reuse import Manifest, Result, Store


def tree(root: Path, version: str) -> Path:
    (root / "src").mkdir(parents=True, exist_ok=True)
    for name in ("a.py", "b.py", "c.py"):
        (root / "src" / name).write_text(f"{name} {version}\n", encoding="utf-8")
    return root


def test_a_lookup_reads_each_path_once_across_every_stored_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "store")
    manifests = [
        Manifest(["src/a.py", "src/b.py"], ["src/absent.py"]),
        Manifest(["src/a.py", "src/c.py"], ["src/absent.py"]),
        Manifest(["src/a.py", "src/b.py", "src/c.py"]),
    ]
    for number, manifest in enumerate(manifests):
        ran = tree(tmp_path / f"run{number}", f"v{number}")
        store.record("group", "primary", ran, manifest, Result("passed", "", f"run{number}", 1.0))
    reads: list[str] = []
    real_state = content.path_state

    def counted(root: Path, path: str) -> list[object]:
        reads.append(path)
        return real_state(root, path)

    monkeypatch.setattr(reuse, "path_state", counted)
    here = tree(tmp_path / "here", "v2")
    found = store.find("group", "primary", here)
    assert found is not None and found.source == "run2"
    assert sorted(reads) == ["src/a.py", "src/b.py", "src/c.py"]  # not once per manifest
    # Another tree is another lookup: its paths are read again, and nothing matches.
    reads.clear()
    assert store.find("group", "primary", tree(tmp_path / "other", "v9")) is None
    assert sorted(reads) == ["src/a.py", "src/b.py", "src/c.py"]


def test_a_stored_entry_rewritten_by_another_worker_is_read_again(tmp_path: Path) -> None:
    store, other_worker = Store(tmp_path / "store"), Store(tmp_path / "store")
    here = tree(tmp_path / "here", "v1")
    manifest = Manifest(["src/a.py"])
    store.record("group", "primary", here, manifest, Result("failed", "flaky", "first", 1.0))
    found = store.find("group", "primary", here)
    assert found is not None and found.outcome == "failed"
    # A worker racing on the same key writes its own result over it (its file changes).
    other_worker.record("group", "primary", here, manifest, Result("passed", "", "second", 2.5))
    entry = tmp_path / "store" / "group" / "primary" / f"{manifest.key(here)}.json"
    assert json.loads(entry.read_text(encoding="utf-8"))["result"]["source"] == "second"
    found = store.find("group", "primary", here)
    assert found is not None and (found.outcome, found.source) == ("passed", "second")
