"""Runs a Terraform provider in debug mode for one test process and stops it with that process.

Usage: python provider_watchdog.py PROVIDER_BINARY [ARGUMENT...]
   or: python provider_watchdog.py PROVIDER_CACHE PROVIDER_BINARY [ARGUMENT...]
(the provider behind its cache, ``tests/matrix/provider_cache``, which passes the interrupt on
and ends with the provider; the provider is killed if the cache is)

The provider inherits this script's stdout (where it prints its TF_REATTACH_PROVIDERS line) and
stderr. The watchdog reads its stdin until end of file, which comes when the test process closes
it or dies in any way (a killed pytest worker leaves no provider behind), then interrupts the
provider (how a debug-mode provider is told to stop) and waits for it. When the provider exits on
its own the watchdog exits too, so the test process sees a dead provider as a dead watchdog.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

STOP_SECONDS = 20


def main(command: list[str]) -> None:
    provider = subprocess.Popen(command, stdin=subprocess.DEVNULL)

    def follow() -> None:
        os._exit(100 + (provider.wait() & 0xFF))

    threading.Thread(target=follow, daemon=True).start()
    sys.stdin.read()
    provider.send_signal(signal.SIGINT)
    try:
        provider.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        provider.kill()
        provider.wait()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
