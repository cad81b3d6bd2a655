"""The write guard on every sharded table, by the key column `extensions.shard_key` names.

The trigger function `shard_write_guard(key column)` comes from the migration
`sharding_0001`; which tables it guards, and by which column, is the shard key's to say (an
item's id, or with multi-tenancy its tenant), and some of those tables come from other
capabilities' migrations, which may run before or after sharding's. So the guards are kept at
the end of every upgrade (the `migrated` extension point), on each shard: a sharded table
without its guard gets one, one guarded by another column is guarded again by the right one.
Not with `alembic upgrade --sql`: it needs the database's state (offline SQL has no guards).
"""

from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.engine import Connection

from ..extensions import Extensions, Migrated

GUARDS = text(
    "SELECT c.relname, encode(t.tgargs, 'escape') FROM pg_trigger t "
    "JOIN pg_class c ON c.oid = t.tgrelid "
    "WHERE t.tgname = c.relname || '_shard_write_guard' "
    "AND c.relnamespace = current_schema()::regnamespace"
)
EXISTS = text("SELECT to_regclass(:table) IS NOT NULL")
# Absent before `sharding_0001` has run (an upgrade stopped short of it) and after its downgrade.
GUARD_FUNCTION_EXISTS = text("SELECT to_regprocedure('shard_write_guard()') IS NOT NULL")


def trigger_of(table: str) -> str:
    return f"{table}_shard_write_guard"


def guard_statement(table: str, key_column: str) -> str:
    """Our own identifiers (table and column names of the models), never outside input."""
    return (
        f"CREATE OR REPLACE TRIGGER {trigger_of(table)} "
        f"BEFORE INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION shard_write_guard('{key_column}')"
    )


def guard_tables(connection: Connection, key_columns: Mapping[str, str]) -> list[str]:
    """Guard each existing table of `key_columns` by its column; the tables (re)guarded.
    Nothing while the database has no guard function (sharding's migrations not applied)."""
    if not connection.scalar(GUARD_FUNCTION_EXISTS):
        return []
    # tgargs holds each argument followed by a NUL byte, which `escape` shows as \000.
    present = {str(row[0]): str(row[1]) for row in connection.execute(GUARDS)}
    changed: list[str] = []
    for table, column in key_columns.items():
        if present.get(table) == f"{column}\\000":
            continue
        if connection.scalar(EXISTS, {"table": table}):
            connection.execute(text(guard_statement(table, column)))
            changed.append(table)
    return changed


def guarding(extensions: Extensions) -> Migrated:
    """The `migrated` hook: reads the shard key once every capability has extended it."""

    def guard(connection: Connection) -> None:
        guard_tables(connection, extensions.shard_key.columns)

    return guard
