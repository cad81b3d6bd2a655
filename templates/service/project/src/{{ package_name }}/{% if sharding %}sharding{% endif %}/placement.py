"""Which tables live on shards, and how each row finds its shard key.

A table `extensions.shard_key` names holds its key in a column of its own (an item's `id`, a
tenant's `tenant_id`). A table with a foreign key to a placed table (a child: authentication's
`item_owners` of `items`) must live where the row it references lives, the database enforcing
that reference; so its rows follow their parent's key, whichever capability made the table and
without naming it: resharding copies, checks, fences and deletes them with their parent's bucket.
When the foreign key holds the parent's key itself (`item_owners.item_id` is `items.id`, the key
without multi-tenancy), that column is the child's key; otherwise (with multi-tenancy the key is
`items.tenant_id`, which `item_owners` has not) the key is read from the parent row, a
correlated subquery, and the write guard looks it up the same way (`guards.py`).

A table with foreign keys to several placed tables follows the first of them by constraint name:
the database then holds all its parents on the one shard, which only keys shared by those parents
can promise.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause


@dataclass(frozen=True, slots=True)
class Placement:
    """How the rows of one table find their shard key: a column of its own, or its parent's."""

    table: Table
    column: str | None
    """The table's column holding the key; None when it is read from the parent row."""
    parent: "Placement | None" = None
    joins: tuple[tuple[str, str], ...] = ()
    """The foreign key to the parent: (this table's column, the parent's column) pairs."""

    def key_of(self, rows: FromClause) -> ColumnElement[Any]:
        """The shard key of `rows` (this table, or a stand-in with its columns)."""
        if self.column is not None:
            return rows.c[self.column]
        if self.parent is None:
            raise ValueError(f"{self.table.name}: neither a key column nor a parent")
        parent = self.parent.table
        match = and_(*(parent.c[theirs] == rows.c[ours] for ours, theirs in self.joins))
        return select(self.parent.key_of(parent)).where(match).scalar_subquery()


def placements(tables: Iterable[Table], columns: Mapping[str, str]) -> list[Placement]:
    """The placed tables of `tables` (in dependency order: parents before children), parents
    before children: those `columns` names by their key column, and their children."""
    placed: dict[str, Placement] = {}
    for table in tables:
        if table.name in columns:
            placed[table.name] = Placement(table, columns[table.name])
            continue
        references = sorted(table.foreign_key_constraints, key=lambda fk: str(fk.name))
        for reference in references:
            parent = placed.get(reference.referred_table.name)
            if parent is None or reference.referred_table is table:
                continue
            joins = tuple((e.parent.name, e.column.name) for e in reference.elements)
            holding_key = [ours for ours, theirs in joins if theirs == parent.column]
            if holding_key:
                placed[table.name] = Placement(table, holding_key[0])
            else:
                placed[table.name] = Placement(table, None, parent, joins)
            break
    return list(placed.values())
