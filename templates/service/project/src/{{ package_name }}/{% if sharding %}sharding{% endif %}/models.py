"""Sharding's own tables, created on every shard by the migration `sharding_0001`.

- `shard_map` (read on shard 0 only, the directory): which shard holds each bucket. `version`
  grows with every change; instances re-read the map when its highest version changes.
  `stray_on` names a shard that may keep rows of the bucket without holding it (the target
  while resharding copies, the source until it deletes them): lists leave those rows out.
- `shard_buckets` (on each shard): the buckets this shard holds, the only ones whose rows it
  accepts. A trigger (`shard_write_guard`) checks every write to a sharded table against it,
  holding the bucket's row with FOR SHARE until the write commits. `fenced` is set while
  resharding moves the bucket away: writes to it fail (and are retried) until the move ends.
"""

from sqlalchemy import BigInteger, Boolean, SmallInteger, false
from sqlalchemy.orm import Mapped, mapped_column

from ..database import Base


class ShardMapEntry(Base):
    __tablename__ = "shard_map"

    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    shard: Mapped[int] = mapped_column(SmallInteger)
    version: Mapped[int] = mapped_column(BigInteger)
    stray_on: Mapped[int | None] = mapped_column(SmallInteger)


class HeldBucket(Base):
    __tablename__ = "shard_buckets"

    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    fenced: Mapped[bool] = mapped_column(Boolean, server_default=false())
