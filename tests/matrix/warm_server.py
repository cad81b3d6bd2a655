"""A tool imported once per test process, which forks a fresh run of itself per request
(``child/checkov_server.py``, ``child/mypy_server.py``): each run does exactly what the command
would, from the imported state, so it pays for the work, not the imports.

Protocol: one JSON object per line on the server's stdin, one reply per line on its stdout;
"ready" first.
  {"args": [...], "cwd": DIR, "output": FILE}  ->  {"exit": CODE, "cpu": SECONDS}
The server reaps its runs, so their CPU seconds reach this process only through the replies
(``forked_cpu_seconds``). A server ends when its stdin does: this process stops it at exit, and
if this process is killed the pipe closes all the same.
"""

from __future__ import annotations

import atexit
import json
import subprocess
import tempfile
from pathlib import Path

_forked_cpu = [0.0]


def forked_cpu_seconds() -> float:
    """CPU seconds of this process's runs in warm servers so far (each reported by its server,
    which reaps the run)."""
    return _forked_cpu[0]


class WarmServer:
    def __init__(self, command: list[str], name: str) -> None:
        self.name = name
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.reply() == "ready", f"the {name} server did not start"
        atexit.register(self.stop)

    def reply(self) -> object:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f"the {self.name} server stopped (exit {self.process.poll()})"
        return json.loads(line)

    def run(self, arguments: list[str], cwd: Path) -> tuple[int, str]:
        """What the tool, run with ``arguments`` in ``cwd``, exits with and prints."""
        assert self.process.stdin is not None
        with tempfile.NamedTemporaryFile(prefix=f"{self.name}-", suffix=".log") as output:
            request = {"args": arguments, "cwd": str(cwd), "output": output.name}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            reply = self.reply()
            assert isinstance(reply, dict), reply
            _forked_cpu[0] += float(reply.get("cpu", 0.0))
            return int(reply["exit"]), Path(output.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()
