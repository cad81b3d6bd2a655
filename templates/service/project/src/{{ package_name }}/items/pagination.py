"""Keyset (cursor) pagination of GET /items: pages in the list's order, created_at then id.

A page ends at a `PageKey`; the client gets it back as an opaque `next_cursor` and sends it as
`cursor` to continue after it. Unlike an offset, a cursor stays put while rows are inserted or
deleted before it: every row that existed when the walk began is seen exactly once, also when
the rows come from several databases (the sharded list merges each shard's page on this key).
"""

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from .schemas import ItemPage, ItemRead

MAX_CURSOR_LENGTH = 200


@dataclass(frozen=True, slots=True, order=True)
class PageKey:
    """A position in the list's order; tuples of these sort as PostgreSQL sorts the rows."""

    created_at: datetime
    id: uuid.UUID

    @classmethod
    def of(cls, item: ItemRead) -> "PageKey":
        return cls(item.created_at, item.id)


@dataclass(frozen=True, slots=True)
class PageQuery:
    """What GET /items asks for: `limit` items after `after` (None: from the start), the
    first `offset` of them skipped."""

    limit: int
    offset: int = 0
    after: PageKey | None = None


def encode_cursor(key: PageKey) -> str:
    raw = json.dumps({"t": key.created_at.isoformat(), "i": str(key.id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> PageKey:
    """The position a `next_cursor` names; ValueError for anything this service did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        fields = json.loads(raw)
        key = PageKey(datetime.fromisoformat(fields["t"]), uuid.UUID(fields["i"]))
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ValueError("not a cursor from this service's next_cursor") from error
    if key.created_at.tzinfo is None:
        raise ValueError("not a cursor from this service's next_cursor")
    return key


def page_of(items: list[ItemRead], total: int, query: PageQuery, *, more: bool) -> ItemPage:
    """The page, with a `next_cursor` when rows follow it."""
    next_cursor = encode_cursor(PageKey.of(items[-1])) if more and items else None
    return ItemPage(
        items=items,
        total=total,
        limit=query.limit,
        offset=query.offset,
        next_cursor=next_cursor,
    )
