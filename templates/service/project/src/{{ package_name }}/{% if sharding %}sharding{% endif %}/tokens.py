"""Consistency tokens: how a client reads its own writes when reads go to replicas.

After a write, the response carries the WAL position of each shard written, taken right after
the commit (`pg_current_wal_insert_lsn()`: at or past the commit record, also with
`synchronous_commit = off`), in the `X-Consistency-Token` header and a short-lived cookie. A
read that sends the token back (header or cookie) goes to a shard's replica only once that
replica has replayed past the shard's position; otherwise to the primary. Readers without a
token read whatever a replica within the lag bound has.

The token is `<shard>:<LSN>` pairs joined by `.`, e.g. `0:16/B374D848.1:0/3000060`: readable,
and made of characters a cookie may hold. Merging two keeps the higher position per shard.
"""

import re
from collections.abc import Mapping

TOKEN_HEADER = "X-Consistency-Token"  # noqa: S105 - a header's name, not a secret
TOKEN_COOKIE = "consistency_token"  # noqa: S105 - a cookie's name, not a secret
MAX_TOKEN_LENGTH = 1024
LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")

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


def parse_token(token: str) -> Positions:
    """ValueError for anything that is not a token of this service."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValueError("consistency token too long")
    positions: Positions = {}
    for entry in token.split("."):
        shard, separator, lsn = entry.partition(":")
        if not separator or not shard.isdigit():
            raise ValueError(f"{entry!r} is not <shard>:<WAL position>")
        positions[int(shard)] = max(positions.get(int(shard), 0), parse_lsn(lsn))
    return positions


def format_token(positions: Mapping[int, int]) -> str:
    return ".".join(f"{shard}:{format_lsn(lsn)}" for shard, lsn in sorted(positions.items()))


def merge(*tokens: Mapping[int, int]) -> Positions:
    merged: Positions = {}
    for positions in tokens:
        for shard, lsn in positions.items():
            merged[shard] = max(merged.get(shard, 0), lsn)
    return merged
