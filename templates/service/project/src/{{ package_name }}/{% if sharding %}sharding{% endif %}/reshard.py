"""`python -m <package>.sharding.reshard`: see and change where buckets live.

    status                               each shard: its buckets, rows, migrations; replicas
    move --buckets 0-255 --to 1          move buckets (all from one shard) while serving
         [--batch 64] [--grace-seconds 2]
    clean-up                             delete rows a shard keeps of buckets it no longer
                                         holds (left by a move that stopped after switching)

It reads the same settings as the service (DATABASE_URL, SHARD_URLS, SHARD_REPLICA_URLS...).
Run it beside the running service; see the README's resharding runbook. Bad arguments: one
line on stderr, exit status 2 (invalid settings: a line for each, as the service says them);
a move that cannot go on: one line, exit status 1.
"""

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from sqlalchemy import func, select, text

from ..capability import Capability, extended
from ..database import Base
from ..extensions import Extensions
from ..items import models as _items_models  # noqa: F401 - its table, in the metadata
from .buckets import BUCKETS, format_ranges, parse_ranges
from .copying import ShardedTable, ShardedTables, sharded_tables
from .resharding import Resharder, ReshardError
from .settings import ShardingSettings
from .shard_map import ShardMap, load_map
from .topology import Shard, build_shards, describe, dispose
from .versions import migration_heads


def say(line: str) -> None:
    sys.stdout.write(f"{line}\n")


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def parser() -> argparse.ArgumentParser:
    main = OneLineParser(
        prog=f"python -m {__package__}.reshard", description=__doc__.split("\n")[0]
    )
    commands = main.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    commands.add_parser("status", help="each shard's buckets, rows and migrations")
    move = commands.add_parser("move", help="move buckets to another shard while serving")
    move.add_argument("--buckets", required=True, type=_buckets, help="e.g. 0-255 or 0-63,128")
    move.add_argument("--to", required=True, type=int, dest="target", help="the target shard")
    move.add_argument("--batch", type=int, default=64, help="buckets per fence (default 64)")
    move.add_argument(
        "--grace-seconds",
        type=float,
        default=None,
        help="wait before deleting moved rows (default: twice SHARD_MAP_REFRESH_SECONDS)",
    )
    commands.add_parser("clean-up", help="delete rows of buckets a shard does not hold")
    return main


def _buckets(value: str) -> list[int]:
    try:
        return parse_ranges(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(
    argv: Sequence[str] | None = None,
    capabilities: Sequence[Capability] | None = None,
    load_settings: Callable[[], ShardingSettings] | None = None,
) -> int:
    """The command: the settings read as the service reads them (its environment), and the
    tables `capabilities` place on shards (and what moves with them). By default the whole
    service's (`capabilities.py`, `config.load_settings`); a test passes its own app's
    capabilities, and its settings class."""
    arguments = parser().parse_args(argv)
    if getattr(arguments, "batch", 1) < 1:
        parser().error("--batch must be at least 1")
    # The whole service's settings and capabilities: imported here, for the command alone, so
    # that importing this module (its tests do) reads no other capability's code.
    if capabilities is None:
        from ..capabilities import CAPABILITIES  # noqa: PLC0415

        capabilities = CAPABILITIES
    if load_settings is None:
        from ..config import load_settings as load_service_settings  # noqa: PLC0415

        load_settings = load_service_settings
    settings = load_settings()  # invalid settings end the process here, as the service's do
    try:
        return asyncio.run(run(arguments, settings, extended(capabilities)))
    except ReshardError as error:
        sys.stderr.write(f"reshard: {error}\n")
        return 1


def tables(extensions: Extensions) -> ShardedTables:
    """The tables `extensions.shard_key` places by a column (an app's: `app.state.extensions`)."""
    return sharded_tables(Base.metadata.sorted_tables, extensions.shard_key)


async def run(
    arguments: argparse.Namespace, settings: ShardingSettings, extensions: Extensions
) -> int:
    # Pooled: a move opens a dozen connections per batch, half of them while it is fenced.
    shards = build_shards(settings)
    try:
        moved_with = extensions.moved_with_buckets
        resharder = Resharder(shards, tables(extensions), say=print, moved_with=moved_with)
        if arguments.command == "move":
            grace = arguments.grace_seconds
            if grace is None:
                grace = 2 * settings.shard_map_refresh_seconds
            report = await resharder.move(
                arguments.buckets, arguments.target, batch_size=arguments.batch, grace_seconds=grace
            )
            longest = max((f.ended - f.started for f in report.fences), default=0.0)
            say(f"copied {report.copied} rows, caught up {report.caught_up}")
            if report.moved_with:
                say(f"moved {report.moved_with} rows kept outside the sharded tables with them")
            say(f"longest fence {longest:.3f} s")
        elif arguments.command == "clean-up":
            for line in await resharder.clean_up():
                say(line)
        else:
            for line in await status(shards, resharder.tables):
                say(line)
    finally:
        await dispose(shards)
    return 0


async def status(shards: Sequence[Shard], sharded: ShardedTables) -> list[str]:
    found = await load_map(shards[0].primary)
    if found is None:
        return ["no shard map yet: start the service once"]
    lines = [f"shard map version {found.version}"]
    for shard in shards:
        held = found.buckets_of(shard.number)
        heads = await migration_heads(shard.primary)
        lines.append(
            f"shard {shard.number} ({describe(shard.primary)}): {len(held)} buckets "
            f"({format_ranges(held)}), migrations {', '.join(sorted(heads)) or 'none'}"
        )
        for table in sharded:
            total, stray = await _counts(shard, sharded, table, found)
            lines.append(f"  {table.table.name}: {total} rows ({stray} of buckets held elsewhere)")
        for replica in shard.replicas:
            behind = await _behind(shard, replica.engine)
            lines.append(f"  replica {replica.number} ({describe(replica.engine)}): {behind}")
    return lines


async def _counts(
    shard: Shard, sharded: ShardedTables, table: ShardedTable, found: ShardMap
) -> tuple[int, int]:
    """Rows of the table on the shard, and of them those of buckets held elsewhere (key by
    key where row-level security shows a transaction one key's rows)."""
    every = list(range(BUCKETS))
    elsewhere = [b for b, owner in enumerate(found.owners) if owner != shard.number]
    total = stray = 0
    for part in await sharded.parts([shard.primary], every):
        async with shard.primary.begin() as connection:
            await sharded.act(connection, part)
            rows = select(func.count()).select_from(table.table)
            counted = rows if part is None else rows.where(table.key == part)
            total += await connection.scalar(counted) or 0
            of_others = rows.where(sharded.where(table, elsewhere, part))
            stray += await connection.scalar(of_others) or 0
    return total, stray


async def _behind(shard: Shard, replica: object) -> str:
    try:
        async with shard.primary.connect() as connection:
            primary = await connection.scalar(text("SELECT pg_current_wal_lsn()::text"))
        async with replica.connect() as connection:  # type: ignore[attr-defined]
            replay = await connection.scalar(text("SELECT pg_last_wal_replay_lsn()::text"))
            behind = await connection.scalar(
                text("SELECT pg_wal_lsn_diff(CAST(:p AS pg_lsn), pg_last_wal_replay_lsn())"),
                {"p": primary},
            )
    except Exception as error:  # noqa: BLE001 - reported, not raised
        return f"unreachable ({type(error).__name__})"
    return f"replayed {replay}, {int(behind or 0)} bytes behind the primary"


if __name__ == "__main__":
    sys.exit(main())
