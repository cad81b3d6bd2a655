"""Rows of some buckets between two shards: copy, catch up, verify, delete.

Every transaction here says `SET LOCAL sharding.resharding = 'on'`, which the write guard
lets through (it would refuse rows of buckets the shard does not hold, or holds fenced), and
fixes the settings that a row's text depends on, so the same row has the same digest on both
shards. A row's digest is the MD5 of its text (`t::text`); a table's checksum is its row count
and the sum of the first 60 bits of every row's digest (independent of row order).
"""

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, delete, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from .buckets import format_ranges, in_buckets

CHUNK_ROWS = 500
STABLE_TEXT = (
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'postgres'",
    "SET LOCAL extra_float_digits = 3",
    "SET LOCAL bytea_output = 'hex'",
)
Key = tuple[Any, ...]


class CopyMismatchError(Exception):
    """The two shards do not hold the same rows of the buckets."""


@dataclass(frozen=True, slots=True)
class ShardedTable:
    table: Table
    key: Column[Any]

    def in_buckets(self, buckets: Iterable[int]) -> ColumnElement[bool]:
        return in_buckets(self.key, buckets)

    @property
    def primary_key(self) -> list[Column[Any]]:
        return list(self.table.primary_key.columns)

    @property
    def quoted(self) -> str:
        return '"' + self.table.name.replace('"', '""') + '"'

    def keys_in(self, keys: Sequence[Key]) -> ColumnElement[bool]:
        columns = self.primary_key
        if len(columns) == 1:
            return columns[0].in_([key[0] for key in keys])
        return tuple_(*columns).in_(keys)


def sharded_tables(tables: Iterable[Table], key_columns: Mapping[str, str]) -> list[ShardedTable]:
    """The sharded tables, parents before children (the metadata's dependency order)."""
    return [ShardedTable(t, t.c[key_columns[t.name]]) for t in tables if t.name in key_columns]


@asynccontextmanager
async def writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction the write guard lets through, with row text fixed."""
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL sharding.resharding = 'on'"))
        for statement in STABLE_TEXT:
            await connection.execute(text(statement))
        yield connection


async def copy_rows(
    source: AsyncEngine, target: AsyncEngine, tables: Sequence[ShardedTable], buckets: Sequence[int]
) -> int:
    copied = 0
    for table in tables:
        query = select(table.table).where(table.in_buckets(buckets)).order_by(*table.primary_key)
        async with source.connect() as reading:
            result = await reading.stream(query)
            async for chunk in result.mappings().partitions(CHUNK_ROWS):
                await _upsert(target, table, [dict(row) for row in chunk])
                copied += len(chunk)
    return copied


async def catch_up(
    source: AsyncEngine, target: AsyncEngine, tables: Sequence[ShardedTable], buckets: Sequence[int]
) -> int:
    """Copy what changed on the source since the copy, delete what it deleted; how many rows."""
    changes = 0
    gone: list[tuple[ShardedTable, list[Key]]] = []
    for table in tables:
        theirs = await _digests(source, table, buckets)
        ours = await _digests(target, table, buckets)
        changed = [key for key, digest in theirs.items() if ours.get(key) != digest]
        gone.append((table, [key for key in ours if key not in theirs]))
        for start in range(0, len(changed), CHUNK_ROWS):
            query = select(table.table).where(table.keys_in(changed[start : start + CHUNK_ROWS]))
            async with source.connect() as reading:
                rows = (await reading.execute(query)).mappings().all()
            await _upsert(target, table, [dict(row) for row in rows])
        changes += len(changed)
    for table, keys in reversed(gone):  # children before their parents
        for start in range(0, len(keys), CHUNK_ROWS):
            async with writing(target) as connection:
                chunk = keys[start : start + CHUNK_ROWS]
                await connection.execute(delete(table.table).where(table.keys_in(chunk)))
        changes += len(keys)
    return changes


async def verify(
    source: AsyncEngine, target: AsyncEngine, tables: Sequence[ShardedTable], buckets: Sequence[int]
) -> None:
    for table in tables:
        theirs = await _checksum(source, table, buckets)
        ours = await _checksum(target, table, buckets)
        if theirs != ours:
            raise CopyMismatchError(
                f"{table.table.name}: buckets {format_ranges(buckets)} differ, (rows, checksum) "
                f"{theirs} on the source against {ours} on the target"
            )


async def delete_rows(
    engine: AsyncEngine, tables: Sequence[ShardedTable], buckets: Sequence[int]
) -> int:
    deleted = 0
    for table in reversed(tables):  # children before their parents
        async with writing(engine) as connection:
            result = await connection.execute(delete(table.table).where(table.in_buckets(buckets)))
            deleted += result.rowcount
    return deleted


async def _upsert(target: AsyncEngine, table: ShardedTable, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    statement = pg_insert(table.table)
    keys = [column.name for column in table.primary_key]
    others = {c.name: statement.excluded[c.name] for c in table.table.columns if c.name not in keys}
    statement = (
        statement.on_conflict_do_update(index_elements=keys, set_=others)
        if others
        else statement.on_conflict_do_nothing(index_elements=keys)
    )
    async with writing(target) as connection:
        await connection.execute(statement, rows)


async def _digests(
    engine: AsyncEngine, table: ShardedTable, buckets: Sequence[int]
) -> dict[Key, str]:
    digest = func.md5(text(f"{table.quoted}::text"))
    query = select(*table.primary_key, digest).where(table.in_buckets(buckets))
    async with writing(engine) as connection:
        rows = (await connection.execute(query)).all()
    return {tuple(row[:-1]): row[-1] for row in rows}


async def _checksum(
    engine: AsyncEngine, table: ShardedTable, buckets: Sequence[int]
) -> tuple[int, int]:
    row_hash = text(f"('x' || left(md5({table.quoted}::text), 15))::bit(60)::bigint")
    query = (
        select(func.count(), func.coalesce(func.sum(row_hash), 0))
        .select_from(table.table)
        .where(table.in_buckets(buckets))
    )
    async with writing(engine) as connection:
        count, total = (await connection.execute(query)).one()
    return int(count), int(total)
