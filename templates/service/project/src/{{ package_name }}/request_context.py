"""The request id: one value that ties together every log line a request causes.

A caller (or the load balancer) may send `X-Request-ID` so its own logs and ours share an id.
Only short, plain ids are trusted: anything else could forge or flood log lines, so it is
replaced by a fresh UUID4.
"""

import os
import random
import re
from contextvars import ContextVar, Token

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# The request ids' own generator, seeded from the OS, reseeded in every forked child (workers
# forked from one parent must not repeat each other's ids), and out of reach of whatever seeds
# the `random` module's shared one (a test framework, for reproducible runs).
_generator = random.Random()  # noqa: S311 - ids must be unique, not unpredictable
os.register_at_fork(after_in_child=_generator.seed)
# A UUID4's fixed bits: version 4 (bits 76-79) and the RFC 4122 variant (bits 62-63).
_VERSION_AND_VARIANT_MASK = ~(0xF << 76 | 0x3 << 62)
_VERSION_AND_VARIANT = 0x4 << 76 | 0x2 << 62


def is_valid_request_id(candidate: str) -> bool:
    return _VALID_REQUEST_ID.fullmatch(candidate) is not None


def resolve_request_id(candidate: str | None) -> str:
    """The caller's id when it is valid, otherwise a new UUID4."""
    if candidate is not None and is_valid_request_id(candidate):
        return candidate
    return new_request_id()


def new_request_id() -> str:
    """A UUID4 in its text form, from a pseudo-random generator rather than `uuid.uuid4()`: a
    request id is unique, not secret, and this spares a read of `os.urandom` and a `UUID` object
    on every request that sends none."""
    bits = _generator.getrandbits(128) & _VERSION_AND_VARIANT_MASK | _VERSION_AND_VARIANT
    digits = f"{bits:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    return _request_id.get()


def bind_request_id(request_id: str) -> Token[str | None]:
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)
