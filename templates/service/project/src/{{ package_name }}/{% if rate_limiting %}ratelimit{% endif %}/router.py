"""`GET /rate-limit`: the caller's identity and the policies, as the caller is held to them
(its own quota, when a capability sets one: `rate_quota`); an example of a sensitive route.

`POST /rate-limit/sensitive-example` stands in for login, password reset or OTP until the
`auth` capability brings real ones: it is mapped to the fail-closed `sensitive` policy in the
default `RATE_LIMIT_ROUTES`, so its behaviour (strict quota, 503 while Redis is down) is real
and tested. Map your own sensitive routes the same way, then delete it.
"""

from http import HTTPStatus
from typing import cast

from fastapi import APIRouter, Request, Response

from ..extensions import extensions_of
from .config import Settings, with_quota
from .identity import client_identity
from .schemas import PolicyRead, RateLimitStatus

router = APIRouter(prefix="/rate-limit", tags=["rate limiting"])


@router.get("")
async def rate_limit_status(request: Request) -> RateLimitStatus:
    settings = cast(Settings, request.app.state.settings)
    return RateLimitStatus(
        client=client_identity(
            request.scope,
            api_key_header=settings.rate_limit_api_key_header,
            trusted_proxies=settings.rate_limit_trusted_proxies,
            known_api_keys=settings.rate_limit_api_key_hashes,
            principal=extensions_of(request).principal(request.scope),
        ),
        policies={
            name: PolicyRead(
                limit=policy.limit,
                window_seconds=policy.window_seconds,
                burst=policy.capacity,
                fail_open=policy.fail_open,
            )
            for name, policy in (
                (name, with_quota(policy, extensions_of(request).rate_quota(name)))
                for name, policy in settings.rate_limit_policies.items()
            )
        },
    )


@router.post("/sensitive-example", status_code=HTTPStatus.NO_CONTENT)
async def sensitive_example() -> Response:
    return Response(status_code=HTTPStatus.NO_CONTENT)
