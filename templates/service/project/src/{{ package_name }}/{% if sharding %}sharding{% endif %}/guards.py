"""The write guard on every sharded table, by the key column `extensions.shard_key` names, and
on every table whose rows follow a sharded parent's key (`placement.py`).

The trigger function `shard_write_guard(key column)` comes from the migration
`sharding_0001`; which tables it guards, and by which column, is the shard key's to say (an
item's id, or with multi-tenancy its tenant), and some of those tables come from other
capabilities' migrations, which may run before or after sharding's. So the guards are kept at
the end of every upgrade (the `migrated` extension point), on each shard: a sharded table
without its guard gets one, one guarded by another column is guarded again by the right one.
A child table holding its parent's key in a column (its foreign key) is guarded by that
column; one that does not, by `shard_child_write_guard(query)` (migration `sharding_0003`),
which reads the key from the parent row by a query made here from the same expression that
resharding selects the child's rows by. Not with `alembic upgrade --sql`: it needs the
database's state (offline SQL has no guards).
"""

from collections.abc import Iterable

from sqlalchemy import Table, Text, cast, column, select, text
from sqlalchemy.engine import Connection, Dialect

from ..database import Base
from ..extensions import Extensions, Migrated
from .placement import Placement, placements

GUARDS = text(
    "SELECT c.relname, t.tgfoid::regproc::text, encode(t.tgargs, 'escape') FROM pg_trigger t "
    "JOIN pg_class c ON c.oid = t.tgrelid "
    "WHERE t.tgname = c.relname || '_shard_write_guard' "
    "AND c.relnamespace = current_schema()::regnamespace"
)
EXISTS = text("SELECT to_regclass(:table) IS NOT NULL")
# Absent before `sharding_0001` (`sharding_0003`) has run (an upgrade stopped short of it) and
# after its downgrade.
FUNCTION_EXISTS = text("SELECT to_regprocedure(:function) IS NOT NULL")
BY_COLUMN = "shard_write_guard"
BY_PARENT = "shard_child_write_guard"


def trigger_of(table: str) -> str:
    return f"{table}_shard_write_guard"


def guard_statement(table: str, key_column: str, function: str = BY_COLUMN) -> str:
    """Our own identifiers (table and column names of the models, and a query made of them),
    never outside input."""
    argument = key_column.replace("'", "''")
    return (
        f"CREATE OR REPLACE TRIGGER {trigger_of(table)} "
        f"BEFORE INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}('{argument}')"
    )


def parent_key_query(placement: Placement, dialect: Dialect) -> str:
    """The query of a row's shard key read from its parent, the row given as `$1` (of the
    table's row type): what `shard_child_write_guard` runs for each written row."""
    columns = [column(c.name, c.type) for c in placement.table.columns]
    written = text("SELECT ($1).*").columns(*columns).subquery("written")
    query = select(cast(placement.key_of(written), Text)).select_from(written)
    compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return str(compiled)


def guard_tables(connection: Connection, tables: Iterable[Placement]) -> list[str]:
    """Guard each existing table of `tables` by its key; the tables (re)guarded. None while
    the database has no guard function (sharding's migrations not applied)."""
    exists = {
        function: bool(connection.scalar(FUNCTION_EXISTS, {"function": f"{function}()"}))
        for function in (BY_COLUMN, BY_PARENT)
    }
    # tgargs holds each argument followed by a NUL byte, which `escape` shows as \000.
    present = {str(row[0]): (str(row[1]), str(row[2])) for row in connection.execute(GUARDS)}
    changed: list[str] = []
    for placement in tables:
        table = placement.table.name
        if placement.column is not None:
            function, argument = BY_COLUMN, placement.column
        else:
            function, argument = BY_PARENT, parent_key_query(placement, connection.dialect)
        if not exists[function] or present.get(table) == (function, f"{argument}\\000"):
            continue
        if connection.scalar(EXISTS, {"table": table}):
            connection.execute(text(guard_statement(table, argument, function)))
            changed.append(table)
    return changed


def guarding(extensions: Extensions) -> Migrated:
    """The `migrated` hook: reads the shard key once every capability has extended it, and
    the tables of every model imported by then (every capability's)."""

    def guard(connection: Connection) -> None:
        tables: list[Table] = Base.metadata.sorted_tables
        guard_tables(connection, placements(tables, extensions.shard_key.columns))

    return guard
