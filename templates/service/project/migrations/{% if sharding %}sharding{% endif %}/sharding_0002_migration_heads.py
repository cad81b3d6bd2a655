"""sharding: the migration heads, readable by the app without reading alembic_version

Revision ID: sharding_0002
Revises: sharding_0001
Create Date: 2026-01-01 00:00:00+00:00

The service refuses to start when its shards are at different migrations (`sharding/
versions.py`), so it must learn each shard's revisions; but the app's own role
(DATABASE_APP_ROLE) has no right on the migration history (`database_roles.py` revokes them).
`migration_heads()` runs as its owner, the migrations' role, and returns the revisions only:
the app calls it and never touches the table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "sharding_0002"
down_revision: str | Sequence[str] | None = "sharding_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEADS_FUNCTION = """
CREATE FUNCTION migration_heads() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT version_num::text FROM {table}
$$
"""


def upgrade() -> None:
    context = op.get_context()
    table = context.dialect.identifier_preparer.quote(context.version_table)
    op.execute(HEADS_FUNCTION.format(table=table))


def downgrade() -> None:
    op.execute("DROP FUNCTION migration_heads()")
