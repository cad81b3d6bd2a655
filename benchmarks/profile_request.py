"""Profile the generated service's `GET /items/{id}` under load: where each request's time goes.

Run (services up: `scripts/services up`, `eval "$(scripts/services env)"`; wrk from Debian):

    .venv/bin/python benchmarks/profile_request.py --with caching --with rate_limiting \
        [--duration 8] [--connections 32] [--sort tottime] [--top 40] [--output FILE]

The project is rendered through `scaffold new`'s code path (as `request_budget.py` does),
migrated and seeded; one uvicorn worker serves it with the cache warm. cProfile runs only while
wrk loads it (switched on and off by signals), so start-up and warm-up stay out of the profile.
It counts CPU time (`time.process_time`), not wall time: on cores shared with other work, the
time the process waits for a core would otherwise be charged to whatever it was running.
Printed: the top functions, and the profiled requests/s (cProfile's own overhead included, so
compare profiles with each other, never with `request_budget.py`'s numbers).
"""

from __future__ import annotations

import argparse
import os
import pstats
import secrets
import shutil
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import budget_auth  # noqa: E402
from benchmarks.budget_servers import WRK_SCRIPT, Result, get, load, server  # noqa: E402
from benchmarks.request_budget import PACKAGE, SERVICES_HINT, prepare, render_config  # noqa: E402
from scaffold.catalog import CATALOG  # noqa: E402
from tests.support.render import planned_interpreter, shared_interpreter  # noqa: E402

# Runs uvicorn's command line with a profiler that SIGUSR1 starts and SIGUSR2 stops and dumps.
PROFILED_UVICORN = """
import cProfile, os, signal, sys, time
import uvicorn.main
profiler = cProfile.Profile(time.process_time)
with open(os.environ["PROFILE_OUTPUT"] + ".pid", "w") as pid_file:
    pid_file.write(str(os.getpid()))
signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
def dump(*_):
    profiler.disable()
    profiler.dump_stats(os.environ["PROFILE_OUTPUT"])
signal.signal(signal.SIGUSR2, dump)
sys.argv[0] = "uvicorn"
uvicorn.main.main()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with", dest="capabilities", action="append", default=[])
    parser.add_argument("--duration", type=int, default=8, help="seconds profiled under load")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--sort", default="tottime", help="a pstats sort key (cumulative...)")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--output", type=Path, help="keep the raw profile (pstats) here")
    options = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            sys.exit(f"{name} is not set: {SERVICES_HINT}")
    wrk = shutil.which("wrk") or sys.exit("wrk is not installed: apt-get install -y wrk")
    capabilities = tuple(options.capabilities) or ("caching",)

    with (
        tempfile.TemporaryDirectory(prefix="profile-request-") as scratch_dir,
        ExitStack() as stack,
    ):
        scratch = Path(scratch_dir)
        project = render_config(scratch, 0, capabilities)
        planned = {c.name for c in CATALOG if not c.available} & set(capabilities)
        python = planned_interpreter([project]) if planned else shared_interpreter(scratch)
        output = options.output or scratch / "requests.prof"
        prefix = f"profile_request_{secrets.token_hex(4)}"
        base_env = {**os.environ, "LOG_LEVEL": "WARNING", "PYTHONDONTWRITEBYTECODE": "1"}
        base_env.pop("VIRTUAL_ENV", None)
        env, ids = prepare(stack, project, python, base_env, prefix, 0, capabilities, [],
                           options.items)  # fmt: skip
        tokens = budget_auth.token_file(scratch) if "auth" in capabilities else None
        env["PROFILE_OUTPUT"] = str(output)
        uvicorn = ["--factory", f"{PACKAGE}.main:create_app"]
        launcher = ("-c", PROFILED_UVICORN)
        base = stack.enter_context(server(python, project, env, uvicorn, launcher))
        token = tokens.read_text().split("\n", 1)[0] if tokens else None
        for item_id in ids:
            get(f"{base}/items/{item_id}", token=token)
        ids_file = scratch / "ids.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        result = profile(wrk, base, scratch, ids_file, tokens, output, options)
        print(f"{' + '.join(capabilities)}, profiled: {result.describe()}")
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        stats = pstats.Stats(str(output))
        print(f"per request: {1e6 * stats.total_tt / max(result.requests, 1):.0f} us profiled")
        stats.strip_dirs().sort_stats(options.sort).print_stats(options.top)


def profile(
    wrk: str,
    base: str,
    scratch: Path,
    ids_file: Path,
    tokens: Path | None,
    output: Path,
    options: argparse.Namespace,
) -> Result:
    """Warm up unprofiled, then load the server with its profiler on; the profile is dumped."""
    script = scratch / "random-item.lua"
    script.write_text(WRK_SCRIPT)
    load(wrk, base, script, ids_file, options.connections, 2, tokens)
    pid = int(Path(f"{output}.pid").read_text())
    os.kill(pid, signal.SIGUSR1)
    result = load(wrk, base, script, ids_file, options.connections, options.duration, tokens)
    os.kill(pid, signal.SIGUSR2)
    deadline = time.monotonic() + 10
    while not output.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


if __name__ == "__main__":
    main()
