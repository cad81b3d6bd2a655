"""What a limited route answers: the RateLimit header fields, 429 and 503 problem documents.

Header syntax: draft-ietf-httpapi-ratelimit-headers-11 (Structured Fields, RFC 9651):
`RateLimit-Policy: "default";q=100;w=60` is the policy (quota `q` per window `w` seconds) and
`RateLimit: "default";r=19;t=1` the service limit (`r` requests available now; none of them
comes back within `t` seconds). The 429 body uses the draft's `quota-exceeded` problem type.
"""

from http import HTTPStatus

from fastapi.responses import JSONResponse

from ..problems import problem_response
from .config import RateLimitPolicy
from .limiter import BACKEND_COOLDOWN_SECONDS, Decision

QUOTA_EXCEEDED_TYPE = "https://iana.org/assignments/http-problem-types#quota-exceeded"
QUOTA_EXCEEDED_TITLE = "Request cannot be satisfied as assigned quota has been exceeded"


def policy_header(policy_name: str, policy: RateLimitPolicy) -> tuple[str, str]:
    return "RateLimit-Policy", f'"{policy_name}";q={policy.limit};w={policy.window_seconds}'


def limit_header(decision: Decision) -> tuple[str, str]:
    return "RateLimit", f'"{decision.policy}";r={decision.remaining};t={decision.reset_seconds}'


def rate_limit_headers(policy: RateLimitPolicy, decision: Decision) -> list[tuple[str, str]]:
    return [policy_header(decision.policy, policy), limit_header(decision)]


def quota_exceeded(policy: RateLimitPolicy, decision: Decision) -> JSONResponse:
    headers = dict(rate_limit_headers(policy, decision))
    headers["Retry-After"] = str(decision.retry_after_seconds)
    return problem_response(
        HTTPStatus.TOO_MANY_REQUESTS,
        f"Too many requests under the {decision.policy!r} policy; "
        f"retry after {decision.retry_after_seconds} s.",
        headers=headers,
        **{
            "type": QUOTA_EXCEEDED_TYPE,
            "title": QUOTA_EXCEEDED_TITLE,
            "violated-policies": [decision.policy],
        },
    )


def limiter_unavailable(policy_name: str, policy: RateLimitPolicy) -> JSONResponse:
    """A fail-closed route while Redis is unreachable: refuse rather than count nothing."""
    name, value = policy_header(policy_name, policy)
    return problem_response(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "This route is rate limited and the limiter is unavailable; retry shortly.",
        headers={name: value, "Retry-After": str(max(1, round(BACKEND_COOLDOWN_SECONDS)))},
    )
