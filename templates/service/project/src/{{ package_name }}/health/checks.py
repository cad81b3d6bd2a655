"""Readiness checks: one per backing service, run concurrently, each with a short timeout.

The database's check is the app's own; each capability declares its checks in its protocol
object (`capability.py`). A slow dependency answers "not ready" within the timeout instead of
hanging the probe. A check that is not critical (a dependency the service survives without,
such as a cache that falls back to the database) is reported but never fails readiness: a blip
of it must not take every instance out of the load balancer at once.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReadinessCheck:
    """A named probe: an async callable that returns when the dependency is usable, or raises."""

    name: str
    probe: Callable[[], Awaitable[None]]
    critical: bool = True
    """False: reported in /health/ready, but a failure does not make the instance unready."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    healthy: bool
    duration_ms: float
    error: str | None = None
    critical: bool = True


async def run_check(check: ReadinessCheck, timeout_seconds: float) -> CheckResult:
    started = time.perf_counter()
    error: str | None = None
    try:
        async with asyncio.timeout(timeout_seconds):
            await check.probe()
    except TimeoutError:
        error = f"timed out after {timeout_seconds:g}s"
        logger.warning("readiness check %s %s", check.name, error, extra={"check": check.name})
    except Exception as exc:  # any failure means "not ready"; the log line has the cause
        # The response names only the error type; the full message may carry hosts or users.
        error = type(exc).__name__
        logger.warning(
            "readiness check %s failed", check.name, extra={"check": check.name}, exc_info=True
        )
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    return CheckResult(
        check.name,
        healthy=error is None,
        duration_ms=duration_ms,
        error=error,
        critical=check.critical,
    )


async def run_checks(checks: Sequence[ReadinessCheck], timeout_seconds: float) -> list[CheckResult]:
    return list(await asyncio.gather(*(run_check(check, timeout_seconds) for check in checks)))
