"""The backing services' CPU (tests/matrix/services_cpu.py): read from each service's pid file,
over the whole process tree under it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.matrix.services_cpu import cpu_seconds, used_since

# A wrapper whose child burns CPU and then waits, as RabbitMQ's script runs beam.smp.
WRAPPER = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c",
    "import time\\nend = time.process_time() + 0.4\\nwhile time.process_time() < end: pass\\n"
    "print('busy', flush=True)\\ntime.sleep(60)"], stdout=sys.stdout)
child.wait()
"""


def test_a_service_counts_the_cpu_of_the_processes_under_it(tmp_path: Path) -> None:
    wrapper = subprocess.Popen([sys.executable, "-c", WRAPPER], stdout=subprocess.PIPE, text=True)
    try:
        (tmp_path / "broker").mkdir()
        (tmp_path / "broker" / "broker.pid").write_text(f"{wrapper.pid}\n", encoding="utf-8")
        postmaster = tmp_path / "postgres" / "data"
        postmaster.mkdir(parents=True)
        (postmaster / "postmaster.pid").write_text(f"{wrapper.pid}\n/data\n", encoding="utf-8")
        (tmp_path / "gone").mkdir()
        (tmp_path / "gone" / "gone.pid").write_text("999999999\n", encoding="utf-8")
        before = cpu_seconds(tmp_path)
        assert wrapper.stdout is not None and wrapper.stdout.readline() == "busy\n"
        after = cpu_seconds(tmp_path)
        assert set(after) == {"broker", "postgres"}  # a stale pid file names no service
        assert after["broker"] >= 0.3 and after["postgres"] == after["broker"]
        assert used_since(before, after)["broker"] >= 0.3 - before["broker"]
    finally:
        wrapper.kill()
        wrapper.wait()


def test_a_service_restarted_between_readings_counts_from_its_new_start() -> None:
    assert used_since({"redis": 5.0, "kafka": 1.0}, {"redis": 2.0, "kafka": 3.5}) == {
        "redis": 2.0,
        "kafka": 2.5,
    }


def test_nothing_is_measured_without_a_services_folder(tmp_path: Path) -> None:
    assert cpu_seconds(None) == {} and cpu_seconds(tmp_path / "absent") == {}
