"""A warm checkov for one matrix worker: it imports checkov once (about 8 CPU-seconds, most of a
cold run's cost) and then forks a child per scan, which runs exactly what the `checkov` command
runs (``Checkov(argv).run()``) from that pristine, imported state and exits with its code.

Runs with checkov's own interpreter (its virtualenv, made by scripts/install-linters). Nothing of
a scan flows back: a child ends with ``os._exit``, its output goes to the file it is given.

Protocol: one JSON object per line on stdin, one reply per line on stdout; "ready" first.
  {"args": [...], "cwd": DIR, "output": FILE}  ->  {"exit": CODE, "cpu": SECONDS}
(the scan's CPU seconds: the server reaps it, so its client's rusage never sees them).
"""

from __future__ import annotations

import json
import os
import sys
import warnings

from checkov.main import Checkov


def scan(arguments: list[str], cwd: str, output: str) -> tuple[int, float]:
    pid = os.fork()
    if pid == 0:  # the child: one checkov run, as the command would make it
        code = 70
        try:
            descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(descriptor, 1)
            os.dup2(descriptor, 2)
            os.chdir(cwd)
            sys.argv = ["checkov", *arguments]
            with warnings.catch_warnings():  # as checkov's own launcher does
                warnings.simplefilter("ignore", category=SyntaxWarning)
                code = Checkov(arguments).run() or 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException as error:
            print(f"checkov_server: {type(error).__name__}: {error}", file=sys.stderr)
            code = 70
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def main() -> None:
    print(json.dumps("ready"), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        code, cpu = scan(list(request["args"]), request["cwd"], request["output"])
        print(json.dumps({"exit": code, "cpu": round(cpu, 3)}), flush=True)


if __name__ == "__main__":
    main()
