"""Replay the dead letters: `python -m <package>.events.replay [--limit N] [--dry-run]`.

Moves what the dead-letter channel holds when it starts (or its first N messages) back to the
item events channel, as fresh messages: the event's own headers, without the failure's. Fix the
cause first (a bug, a missing row, an unknown event version); an event that fails again returns
to the dead-letter channel, and one the consumer already processed is skipped. Each message
leaves the dead-letter channel only once the broker confirmed its copy.
"""

import argparse
import asyncio
import sys
from collections.abc import Callable, Mapping, Sequence

from ..capability import Capability
from ..core_config import CoreSettings
from ..main import create_app
from . import retries
from .dependencies import Messaging, messaging_of
from .schemas import EVENT_ID, EVENT_TYPE
from .transport import Outgoing

IDLE_SECONDS = 10.0
"""Stop when nothing arrives for this long (the channel was emptied by someone else)."""


class ReplayError(Exception):
    pass


async def replay(messaging: Messaging, limit: int | None = None, *, dry_run: bool = False) -> int:
    """Replay up to `limit` dead letters (all of them by default); returns how many."""
    await messaging.connect()
    channels, transport = messaging.channels, messaging.transport
    waiting = await transport.depth(channels.dead_letters, channels.replay_group)
    todo = waiting if limit is None else min(limit, waiting)
    done = 0
    batch_size = messaging.settings.messaging_consumer_batch_size
    async with transport.consume(channels.dead_letters, channels.replay_group, batch_size) as inbox:
        while done < todo:
            batch = await inbox.next_batch(IDLE_SECONDS, limit=todo - done)
            if not batch.messages:
                break
            if dry_run:
                for message in batch.messages:
                    sys.stdout.write(describe(message.headers) + "\n")
                done += len(batch.messages)
                continue
            copies = [
                Outgoing(message.key or message.headers.get(EVENT_ID, ""), message.body,
                         retries.replayed_headers(message.headers))
                for message in batch.messages
            ]  # fmt: skip
            errors = await transport.publish(channels.items, copies)
            failed = [error for error in errors if error is not None]
            if failed:  # nothing of this batch is acknowledged: it stays in the channel
                raise ReplayError(f"{len(failed)} messages not republished: {failed[0]!r}")
            await batch.settle()
            done += len(batch.messages)
    return done


def describe(headers: Mapping[str, str]) -> str:
    return (
        f"{headers.get(EVENT_ID, '?')} {headers.get(EVENT_TYPE, '?')} "
        f"attempts={headers.get(retries.ATTEMPTS, '?')} {headers.get(retries.EXCEPTION, '')}"
    )


def main(
    argv: Sequence[str],
    capabilities: Sequence[Capability] | None = None,
    load_settings: Callable[[], CoreSettings] | None = None,
) -> int:
    """The command: the settings read as the service reads them (its environment), and the
    resources of an app of `capabilities`. By default the whole service's (`capabilities.py`,
    `config.load_settings`); a test passes its own app's, and its settings class."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}.replay", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--limit", type=int, help="replay at most this many (default: all)")
    parser.add_argument(
        "--dry-run", action="store_true", help="list them, and leave them in the channel"
    )
    options = parser.parse_args(argv)
    if options.limit is not None and options.limit < 1:
        parser.error("--limit must be at least 1")
    # The whole service's settings and capabilities: imported here, for the command alone, so
    # that importing this module (its tests do) reads no other capability's code.
    if capabilities is None:
        from ..capabilities import CAPABILITIES  # noqa: PLC0415

        capabilities = CAPABILITIES
    if load_settings is None:
        from ..config import load_settings as load_service_settings  # noqa: PLC0415

        load_settings = load_service_settings
    settings = load_settings()  # invalid settings end the process here, as the worker's do
    return asyncio.run(_main(settings, capabilities, options.limit, options.dry_run))


async def _main(
    settings: CoreSettings, capabilities: Sequence[Capability], limit: int | None, dry_run: bool
) -> int:
    app = create_app(settings, capabilities, in_app_processes=False)
    async with app.router.lifespan_context(app):
        messaging = messaging_of(app)
        try:
            count = await replay(messaging, limit, dry_run=dry_run)
        except ReplayError as error:
            sys.stderr.write(f"replay stopped: {error}\n")
            return 1
    channels = messaging.channels
    verb = "would replay" if dry_run else "replayed"
    sys.stdout.write(f"{verb} {count} messages from {channels.dead_letters} to {channels.items}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
