"""Shard keys to virtual buckets: a fixed number of buckets, hashed the same everywhere.

A key (an item's id, or the tenant with multi-tenancy) hashes to one of `BUCKETS` buckets; the
shard map then says which shard holds each bucket. Moving a bucket moves its rows and changes
one entry of the map: no other key is rehashed, whatever the number of shards.

The hash is the first 32 bits of SHA-256 of the key's UTF-8 text, modulo `BUCKETS` (a power of
two, so every bucket is equally likely). It is the same in every process and release (never
Python's `hash()`, which is randomised per process) and the same in SQL: the database function
`shard_bucket(text)` (migration `sharding_0001`) computes it for the write guard, the list
filter and resharding. Changing either is changing where every row lives.
"""

import hashlib
from collections.abc import Iterable

from sqlalchemy import Integer, LargeBinary, Text, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

BUCKETS = 1024


def bucket_of(key: str) -> int:
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:4], "big") % BUCKETS


def bucket_sql(column: ColumnElement[object]) -> ColumnElement[int]:
    """The bucket of a column's values, computed by the database (`shard_bucket`)."""
    return func.shard_bucket(cast(column, Text), type_=Integer)


def bucket_mask(buckets: Iterable[int]) -> bytes:
    """A set of buckets as bits, in the order PostgreSQL's `get_bit(bytea, n)` reads them."""
    mask = bytearray(BUCKETS // 8)
    for bucket in buckets:
        mask[bucket // 8] |= 1 << (bucket % 8)
    return bytes(mask)


def in_buckets(column: ColumnElement[object], buckets: Iterable[int]) -> ColumnElement[bool]:
    """True for rows whose key is in one of `buckets` (one bit test per row, whatever the
    number of buckets)."""
    mask = literal(bucket_mask(buckets), LargeBinary)
    return func.get_bit(mask, bucket_sql(column), type_=Integer) == 1


def even_split(shards: int) -> tuple[int, ...]:
    """The first shard map: contiguous ranges of buckets, one per shard, as even as they go."""
    return tuple(bucket * shards // BUCKETS for bucket in range(BUCKETS))


def parse_ranges(text: str) -> list[int]:
    """`"0-255,300"` as buckets, ascending, each once; ValueError naming what is wrong."""
    found: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise ValueError(f"{part!r} is not a bucket or a range like 0-255")
        start, end = int(first), int(last or first)
        if start > end or end >= BUCKETS:
            raise ValueError(f"{part!r}: buckets go from 0 to {BUCKETS - 1}")
        found.update(range(start, end + 1))
    return sorted(found)


def format_ranges(buckets: Iterable[int]) -> str:
    """Buckets as compact ranges: `0-255, 300`."""
    ordered = sorted(set(buckets))
    ranges: list[str] = []
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        first, last = ordered[start], ordered[end]
        ranges.append(str(first) if first == last else f"{first}-{last}")
        start = end + 1
    return ", ".join(ranges) or "none"
