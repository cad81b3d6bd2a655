"""The limiter's counters as metric families of the capability protocol.

`ratelimit_decisions_total{policy,plan,decision}`: every request a policy checked, by what
happened to it (allowed, limited, or Redis unreachable: failed_open / failed_closed). Every
policy's series exist from the start, at 0, so a rate over them is never empty. The labels stay
few: policies come from settings and plans from billing; the caller's identity never is one.
`ratelimit_backend_errors_total`: checks that could not reach Redis.
"""

from collections.abc import Iterable
from typing import cast

from fastapi import FastAPI

from ..capability import Metric, Sample
from .limiter import NO_PLAN, OUTCOMES, RateLimiter


def rate_limit_metrics(app: FastAPI) -> Iterable[Metric]:
    limiter = cast(RateLimiter, app.state.rate_limiter)
    counts = {
        (policy, NO_PLAN, outcome): 0
        for policy in app.state.settings.rate_limit_policies
        for outcome in OUTCOMES
    }
    counts.update(limiter.outcomes)
    yield Metric(
        "ratelimit_decisions_total",
        "counter",
        "Requests checked by the rate limiter, by policy, plan and decision.",
        tuple(
            Sample({"policy": policy, "plan": plan, "decision": outcome}, value)
            for (policy, plan, outcome), value in sorted(counts.items())
        ),
    )
    yield Metric(
        "ratelimit_backend_errors_total",
        "counter",
        "Rate-limit checks that could not reach Redis (then each policy fails open or closed).",
        (Sample({}, limiter.backend_errors_total),),
    )
