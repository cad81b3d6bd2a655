"""sharding: shard map, held buckets, and the write guard

Revision ID: sharding_0001
Revises:
Create Date: 2026-01-01 00:00:00+00:00

Runs on every shard (`alembic upgrade heads` migrates each one). `shard_bucket(text)` is the
bucket of a shard key, exactly as `sharding/buckets.py` computes it in Python; the trigger
`shard_write_guard` refuses a write to a sharded table whose row's bucket this shard does not
hold (SQLSTATE SHMOV) or is moving away (SHFNC). The triggers themselves are not made here:
which tables are sharded, and by which column, is `extensions.shard_key`'s to say (with
multi-tenancy, tables of its own migrations, by their tenant), so `sharding/guards.py` keeps
them at the end of every upgrade, whichever branches ran before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sharding_0001"
down_revision: str | Sequence[str] | None = None
# The sharding capability's own line of migrations.
branch_labels: str | Sequence[str] | None = ("sharding",)
depends_on: str | Sequence[str] | None = "0001"

BUCKET_FUNCTION = """
CREATE FUNCTION shard_bucket(key text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT (('x' || left(encode(sha256(convert_to(key, 'UTF8')), 'hex'), 8))::bit(32)::bigint
          % 1024)::integer
$$
"""
# SECURITY DEFINER: the app's role needs no right on shard_buckets to pass the check.
GUARD_FUNCTION = """
CREATE FUNCTION shard_write_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  row_bucket integer;
  is_fenced boolean;
BEGIN
  -- Resharding copies and deletes rows of buckets in motion; it says so in its transaction.
  IF current_setting('sharding.resharding', true) = 'on' THEN
    RETURN COALESCE(NEW, OLD);
  END IF;
  IF TG_OP = 'DELETE' THEN
    row_bucket := shard_bucket(to_jsonb(OLD) ->> TG_ARGV[0]);
  ELSE
    row_bucket := shard_bucket(to_jsonb(NEW) ->> TG_ARGV[0]);
  END IF;
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
    op.create_table(
        "shard_map",
        sa.Column("bucket", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("stray_on", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_shard_map")),
    )
    op.create_table(
        "shard_buckets",
        sa.Column("bucket", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("fenced", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_shard_buckets")),
    )
    op.execute(BUCKET_FUNCTION)
    op.execute(GUARD_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION shard_write_guard() CASCADE")  # with every table's guard
    op.execute("DROP FUNCTION shard_bucket(text)")
    op.drop_table("shard_buckets")
    op.drop_table("shard_map")
