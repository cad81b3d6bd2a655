"""`/health/live` and `/health/ready`, the probes of the load balancer and container platform.

Liveness calls nothing outside the process: if the database is down, restarting this container
would not fix it, only add load. Readiness runs every registered check, so an instance that
cannot reach a critical backing service is taken out of rotation until it can; a failing check
that is not critical is reported (`"critical": false`) without failing the probe.
"""

from http import HTTPStatus
from typing import cast

from fastapi import APIRouter, Request, Response

from ..core_config import CoreSettings
from .checks import ReadinessCheck, run_checks
from .schemas import CheckStatus, Liveness, Readiness

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> Liveness:
    return Liveness()


@router.get(
    "/ready",
    responses={HTTPStatus.SERVICE_UNAVAILABLE.value: {"model": Readiness}},
)
async def ready(request: Request, response: Response) -> Readiness:
    settings = cast(CoreSettings, request.app.state.settings)
    checks = cast(list[ReadinessCheck], request.app.state.readiness_checks)
    results = await run_checks(checks, settings.readiness_timeout_seconds)
    is_ready = all(result.healthy for result in results if result.critical)
    if not is_ready:
        response.status_code = HTTPStatus.SERVICE_UNAVAILABLE
    return Readiness(
        status="ready" if is_ready else "not_ready",
        checks={
            result.name: CheckStatus(
                status="ok" if result.healthy else "failing",
                duration_ms=result.duration_ms,
                error=result.error,
                critical=result.critical,
            )
            for result in results
        },
    )
