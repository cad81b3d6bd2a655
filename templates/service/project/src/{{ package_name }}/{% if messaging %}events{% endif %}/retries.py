"""Backoff with jitter, and the headers a failed message carries to the retry and dead-letter
channels.

Headers of a failed message (values are strings), beside the event's own:

- `x-original-<name>`: where it was first consumed, set on the first failure and kept:
  `topic`, `partition`, `offset` (Kafka); `queue`, `exchange`, `routing-key`, `redelivered`
  (RabbitMQ);
- `x-attempts`: handling attempts so far, over every round;
- `x-exception`: the last error, `Type: message` (at most 1,000 characters);
- `x-retry-round`: rounds through the retry channel so far;
- `x-retry-not-before`: (retry channel only) the Unix time before which it is not handled.
"""

import random
from collections.abc import Callable, Mapping

from .transport import Incoming

ORIGINAL = "x-original-"
ATTEMPTS = "x-attempts"
EXCEPTION = "x-exception"
ROUND = "x-retry-round"
NOT_BEFORE = "x-retry-not-before"
FAILURE_HEADERS = (ATTEMPTS, EXCEPTION, ROUND, NOT_BEFORE)
MAX_EXCEPTION_LENGTH = 1000


def backoff_seconds(
    attempt: int, base: float, cap: float, uniform: Callable[[float, float], float] = random.uniform
) -> float:
    """Exponential backoff with "equal jitter": between half and all of min(cap, base * 2^(n-1)),
    so retries spread out (no thundering herd) yet each wait still grows with the attempt."""
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return uniform(ceiling / 2, ceiling)


def describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".replace("\n", " ")
    return text[:MAX_EXCEPTION_LENGTH]


def integer(headers: Mapping[str, str], name: str) -> int:
    try:
        return max(int(headers.get(name, "0")), 0)
    except ValueError:
        return 0


def not_before(headers: Mapping[str, str]) -> float:
    try:
        return float(headers.get(NOT_BEFORE, "0"))
    except ValueError:
        return 0.0


def failure_headers(message: Incoming, error: BaseException, attempts: int) -> dict[str, str]:
    headers = dict(message.headers)
    if not any(name.startswith(ORIGINAL) for name in headers):
        headers.update({ORIGINAL + name: value for name, value in message.coordinates.items()})
    headers[ATTEMPTS] = str(attempts)
    headers[EXCEPTION] = describe(error)
    headers.pop(NOT_BEFORE, None)
    return headers


def replayed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A dead letter's headers as a fresh message's: the event's own, without the failure's."""
    return {
        name: value
        for name, value in headers.items()
        if name not in FAILURE_HEADERS and not name.startswith(ORIGINAL)
    }
