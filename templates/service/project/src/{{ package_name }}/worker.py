"""`python -m <package>.worker NAME`: one of the capabilities' processes, in a process of its own.

The worker builds the app (without serving HTTP) and enters its lifespan, so the process runs
with the same resources, settings and extension points as the API; SIGTERM (what ECS and
Docker send) and Ctrl-C stop it cleanly, closing every resource. `python -m <package>.worker`
alone lists the processes this service has.
"""

import asyncio
import logging
import signal
import sys
from contextlib import suppress

from .capabilities import CAPABILITIES
from .capability import Process
from .config import Settings, load_settings
from .main import create_app

logger = logging.getLogger(__name__)


def worker_processes() -> dict[str, Process]:
    return {p.name: p for c in CAPABILITIES for p in c.processes if not p.in_app}


async def run(process: Process, settings: Settings) -> None:
    # This process runs `process`, nothing else.
    app = create_app(settings, in_app_processes=False)
    async with app.router.lifespan_context(app):
        task = asyncio.create_task(process.run(app), name=process.name)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        logger.info("worker %s started", process.name)
        with suppress(asyncio.CancelledError):
            await task  # a process that fails raises here: the worker exits non-zero
    logger.info("worker %s stopped", process.name)


def main(argv: list[str]) -> int:
    processes = worker_processes()
    names = ", ".join(sorted(processes)) or "none in this service"
    usage = f"usage: python -m {__package__}.worker NAME  (processes: {names})\n"
    if not argv:
        sys.stderr.write(usage)
        return 2
    settings = load_settings()  # invalid settings end the process here, whatever the name
    if len(argv) != 1 or argv[0] not in processes:
        sys.stderr.write(usage)
        return 2
    asyncio.run(run(processes[argv[0]], settings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
