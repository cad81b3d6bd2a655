"""A value read from Redis ahead of time, for the request that will read it.

A command that must run before a request is handled (the rate limiter's check) can read, in
the same round trip, the key that the request's handler will read first (a cached item: the
`read_ahead` extension point names it). The value is offered here for the rest of the request,
and taken at most once, by a reader asking for exactly that key; any other key, a second read,
and a read after the request changed the key (`forget`) go to Redis as before.
"""

from contextvars import ContextVar, Token
from enum import Enum


class _NotRead(Enum):
    NOT_READ = "not read"


NOT_READ = _NotRead.NOT_READ


class _Offer:
    __slots__ = ("key", "value")

    def __init__(self, key: str, value: str | None) -> None:
        self.key: str | None = key
        self.value = value


_offered: ContextVar[_Offer | None] = ContextVar("redis_read_ahead", default=None)


def offer(key: str, value: str | None) -> Token[_Offer | None]:
    """`value` (None: the key did not exist) was read from `key` for this request; give the
    token to `withdraw` when the request ends."""
    return _offered.set(_Offer(key, value))


def withdraw(token: Token[_Offer | None]) -> None:
    """The request ended: its value is taken by no one after (a task it started holds a copy
    of the context, and with it the offer, which no reset of this context reaches)."""
    offered = _offered.get()
    if offered is not None:
        offered.key = None
    _offered.reset(token)


def take(key: str) -> str | _NotRead | None:
    """The value read ahead of `key` (once), or NOT_READ: then read it from Redis."""
    offered = _offered.get()
    if offered is None or offered.key != key:
        return NOT_READ
    offered.key = None
    return offered.value


def forget(key: str) -> None:
    """The request changes `key`: a value read before must not be taken after."""
    offered = _offered.get()
    if offered is not None and offered.key == key:
        offered.key = None
