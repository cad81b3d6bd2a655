"""Ctrl-C while Copier renders leaves no half-written project behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.disk import snapshot

FILES_BEFORE_THE_PIPE = 30
STARTED = 20
"""Files in the staging folder that show rendering under way (Copier renders in name order)."""


AS_FROM_A_TERMINAL = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('scaffold', run_name='__main__', alter_sys=True)"
)
"""`python -m scaffold` with Ctrl-C raising KeyboardInterrupt, as in a terminal, whatever the
test run inherited: a run started in the background by a non-interactive shell (`cmd &`,
`nohup`) ignores SIGINT, and so would a child started from it, which then never heard the
signal (rendering finished, or waited on forever)."""


def blocking_template(root: Path) -> Path:
    """A valid template whose rendering never ends on its own: after its ordinary files, Copier
    copies `zz_blocks.txt`, a named pipe nobody writes to, and waits in its `open`. The signal
    always comes while rendering, however fast or slow the machine is."""
    (root / "project").mkdir(parents=True)
    (root / "copier.yml").write_text(
        "_subdirectory: project\n_templates_suffix: .jinja\nproject_name: {type: str}\n"
    )
    for index in range(FILES_BEFORE_THE_PIPE):
        (root / "project" / f"file{index:02d}.txt.jinja").write_text("{{ project_name }}\n")
    os.mkfifo(root / "project" / "zz_blocks.txt")
    return root


def test_sigint_during_rendering_leaves_the_disk_as_it_was(workdir: Path, tmp_path: Path) -> None:
    template = blocking_template(tmp_path / "blocking")
    before = snapshot(workdir)
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            AS_FROM_A_TERMINAL,
            "new",
            "demo",
            "--yes",
            "--template",
            str(template),
        ],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while not _rendering_started(workdir):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "rendering never started"
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["scaffold: error: interrupted; nothing was written"]
    assert snapshot(workdir) == before


def _rendering_started(workdir: Path) -> bool:
    """True once Copier has written some files into the staging folder."""
    for staging in workdir.glob(".scaffold-staging-*"):
        rendered = staging / "demo"
        if rendered.is_dir() and len(os.listdir(rendered)) > STARTED:
            return True
    return False
