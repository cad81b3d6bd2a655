"""Consistency tokens: how a client reads its own writes when reads go to replicas.

After a write, the response carries the WAL position of each shard written, taken right after
the commit (`pg_current_wal_insert_lsn()`: at or past the commit record, also with
`synchronous_commit = off`), in the `X-Consistency-Token` header and a short-lived cookie. A
read that sends the token back (header or cookie) goes to a shard's replica only once that
replica has replayed past the shard's position; otherwise to the primary. Readers without a
token read whatever a replica within the lag bound has.

The token is `<shard>:<LSN>` pairs joined by `.`, e.g. `0:16/B374D848.1:0/3000060`: readable,
and made of characters a cookie may hold. Merging two keeps the higher position per shard.

A token is client input: the middleware checks it whole as it arrives (`checked_token`, one
match of the raw header bytes: anything else is a 400), and its positions are parsed only when
something needs them (`positions_of`: a read that may go to a replica, a write that merges it),
so a request that never looks at them pays for the check alone.
"""

import re
from collections.abc import Mapping

TOKEN_HEADER = "X-Consistency-Token"  # noqa: S105 - a header's name, not a secret
TOKEN_COOKIE = "consistency_token"  # noqa: S105 - a cookie's name, not a secret
MAX_TOKEN_LENGTH = 1024
LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")
_ENTRY = rb"[0-9]+:[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}"
TOKEN = re.compile(_ENTRY + rb"(?:\." + _ENTRY + rb")*")
"""A whole token (`fullmatch`): linear, each entry ends at the only `.` it may be followed by."""
ENTRY = re.compile(rb"([0-9]+):([0-9A-Fa-f]+)/([0-9A-Fa-f]+)")

Positions = dict[int, int]
"""Shard number -> WAL position (LSN as an integer)."""


def parse_lsn(text: str) -> int:
    """PostgreSQL's `X/Y` (two hex numbers) as one integer."""
    match = LSN.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a WAL position")
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def format_lsn(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def checked_token(token: bytes) -> bytes:
    """The token as sent, once it is known to be one (ValueError otherwise); see positions_of."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValueError("consistency token too long")
    if TOKEN.fullmatch(token) is None:
        raise ValueError("not <shard>:<WAL position> pairs joined by '.'")
    return token


def positions_of(token: bytes) -> Positions:
    """The positions of a token `checked_token` let through (a shard named twice: the higher)."""
    positions: Positions = {}
    for shard_text, high, low in ENTRY.findall(token):
        shard, lsn = int(shard_text), (int(high, 16) << 32) | int(low, 16)
        if lsn > positions.get(shard, -1):
            positions[shard] = lsn
    return positions


def parse_token(token: str) -> Positions:
    """ValueError for anything that is not a token of this service."""
    return positions_of(checked_token(token.encode("latin-1")))  # UnicodeError: a ValueError


def format_token(positions: Mapping[int, int]) -> str:
    return ".".join(f"{shard}:{format_lsn(lsn)}" for shard, lsn in sorted(positions.items()))


def merge(*tokens: Mapping[int, int]) -> Positions:
    merged: Positions = {}
    for positions in tokens:
        for shard, lsn in positions.items():
            merged[shard] = max(merged.get(shard, 0), lsn)
    return merged
