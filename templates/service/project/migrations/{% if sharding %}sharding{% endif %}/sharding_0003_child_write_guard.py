"""sharding: the write guard of tables whose rows follow their parent's shard key

Revision ID: sharding_0003
Revises: sharding_0002
Create Date: 2026-01-01 00:00:00+00:00

A table with a foreign key to a sharded table lives with the rows it references
(`sharding/placement.py`). When it does not hold its parent's key in a column of its own (with
multi-tenancy the items' key is their `tenant_id`, which authentication's `item_owners` has
not), `shard_child_write_guard(query)` reads the key from the parent row, by the query
`sharding/guards.py` gives each such table's trigger (the written row as `$1`), and refuses the
write as `shard_write_guard` does: SHMOV for a bucket this shard does not hold, SHFNC for one
being moved away. A row whose parent is not found (deleted with it, in the transaction the
parent's own guard let through) passes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "sharding_0003"
down_revision: str | Sequence[str] | None = "sharding_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SECURITY DEFINER, as shard_write_guard: the app's role needs no right on shard_buckets.
CHILD_GUARD_FUNCTION = """
CREATE FUNCTION shard_child_write_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  row_key text;
  row_bucket integer;
  is_fenced boolean;
BEGIN
  IF current_setting('sharding.resharding', true) = 'on' THEN
    RETURN COALESCE(NEW, OLD);
  END IF;
  IF TG_OP = 'DELETE' THEN
    EXECUTE TG_ARGV[0] INTO row_key USING OLD;
  ELSE
    EXECUTE TG_ARGV[0] INTO row_key USING NEW;
  END IF;
  IF row_key IS NULL THEN
    RETURN COALESCE(NEW, OLD);
  END IF;
  row_bucket := shard_bucket(row_key);
  SELECT fenced INTO is_fenced FROM shard_buckets WHERE bucket = row_bucket FOR SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'bucket % is not held by this shard', row_bucket
      USING ERRCODE = 'SHMOV', HINT = 'Re-read the shard map and write to its shard.';
  ELSIF is_fenced THEN
    RAISE EXCEPTION 'bucket % is being moved to another shard', row_bucket
      USING ERRCODE = 'SHFNC', HINT = 'Retry once the move has switched the shard map.';
  END IF;
  RETURN COALESCE(NEW, OLD);
END
$$
"""


def upgrade() -> None:
    op.execute(CHILD_GUARD_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION shard_child_write_guard() CASCADE")  # with every table's guard
