"""The request id: one value that ties together every log line a request causes.

A caller (or the load balancer) may send `X-Request-ID` so its own logs and ours share an id.
Only short, plain ids are trusted: anything else could forge or flood log lines, so it is
replaced by a fresh UUID4.
"""

import re
import uuid
from contextvars import ContextVar, Token

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def is_valid_request_id(candidate: str) -> bool:
    return _VALID_REQUEST_ID.fullmatch(candidate) is not None


def resolve_request_id(candidate: str | None) -> str:
    """The caller's id when it is valid, otherwise a new UUID4."""
    if candidate is not None and is_valid_request_id(candidate):
        return candidate
    return str(uuid.uuid4())


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    return _request_id.get()


def bind_request_id(request_id: str) -> Token[str | None]:
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)
