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
from collections.abc import Callable, Sequence
from contextlib import suppress

from .capability import Capability, Process
from .core_config import CoreSettings
from .main import create_app

logger = logging.getLogger(__name__)


def worker_processes(capabilities: Sequence[Capability]) -> dict[str, Process]:
    return {p.name: p for c in capabilities for p in c.processes if not p.in_app}


async def run(process: Process, settings: CoreSettings, capabilities: Sequence[Capability]) -> None:
    # This process runs `process`, nothing else.
    app = create_app(settings, capabilities, in_app_processes=False)
    async with app.router.lifespan_context(app):
        task = asyncio.create_task(process.run(app), name=process.name)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        logger.info("worker %s started", process.name)
        with suppress(asyncio.CancelledError):
            await task  # a process that fails raises here: the worker exits non-zero
    logger.info("worker %s stopped", process.name)


def main(
    argv: Sequence[str],
    capabilities: Sequence[Capability] | None = None,
    load_settings: Callable[[], CoreSettings] | None = None,
) -> int:
    """The command: the settings read as the service reads them (its environment), and an app
    of `capabilities`. By default the whole service's (`capabilities.py`,
    `config.load_settings`); a test passes its own app's, and its settings class."""
    # The whole service's settings and capabilities: imported here, for the command alone, so
    # that importing this module reads no capability's code (as `events.replay` does).
    if capabilities is None:
        from .capabilities import CAPABILITIES  # noqa: PLC0415

        capabilities = CAPABILITIES
    if load_settings is None:
        from .config import load_settings as load_service_settings  # noqa: PLC0415

        load_settings = load_service_settings
    processes = worker_processes(capabilities)
    names = ", ".join(sorted(processes)) or "none in this service"
    usage = f"usage: python -m {__package__}.worker NAME  (processes: {names})\n"
    if not argv:
        sys.stderr.write(usage)
        return 2
    settings = load_settings()  # invalid settings end the process here, whatever the name
    if len(argv) != 1 or argv[0] not in processes:
        sys.stderr.write(usage)
        return 2
    asyncio.run(run(processes[argv[0]], settings, capabilities))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
