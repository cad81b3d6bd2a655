"""Ctrl-C while Copier renders leaves no half-written project behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.disk import snapshot

SLOW_FILES = 4000


def slow_template(root: Path) -> Path:
    """A valid template with enough files that rendering takes seconds."""
    (root / "project").mkdir(parents=True)
    (root / "copier.yml").write_text(
        "_subdirectory: project\n_templates_suffix: .jinja\nproject_name: {type: str}\n"
    )
    for index in range(SLOW_FILES):
        (root / "project" / f"file{index}.txt.jinja").write_text("{{ project_name }}\n" * 20)
    return root


def test_sigint_during_rendering_leaves_the_disk_as_it_was(workdir: Path, tmp_path: Path) -> None:
    template = slow_template(tmp_path / "slow")
    before = snapshot(workdir)
    process = subprocess.Popen(
        [sys.executable, "-m", "scaffold", "new", "demo", "--yes", "--template", str(template)],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 60
    while not _rendering_started(workdir):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "rendering never started"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["scaffold: error: interrupted; nothing was written"]
    assert snapshot(workdir) == before


def _rendering_started(workdir: Path) -> bool:
    """True once Copier has written some files into the staging folder."""
    for staging in workdir.glob(".scaffold-staging-*"):
        rendered = staging / "demo"
        if rendered.is_dir() and len(os.listdir(rendered)) > 20:
            return True
    return False
