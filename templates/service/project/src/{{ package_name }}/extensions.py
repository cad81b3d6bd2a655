"""Named extension points: where capabilities meet without naming each other.

One `Extensions` object per app (`app.state.extensions`), built by `main.create_app` with
neutral defaults; each capability's `extend` fills the points it provides, in the order of
`capabilities.py`. The points, who provides them and who uses them:

| point | default | provided by | used by |
|---|---|---|---|
| `principal` | anonymous | authentication | rate limiting (per-user buckets), ownership |
| `authorize` | allow | authentication (scopes, roles) | every protected route |
| `sensitive_paths` | none | authentication (login, token refresh) | rate limiting (strict policy) |
| `tenant` | no tenant | multi-tenancy | key and message scoping |
| `plan` | no plan | multi-tenancy (billing) | per-plan limits, metric labels |
| `rate_quota` | the policy's own | multi-tenancy (the plan's quota) | rate limiting |
| `items` | read from the database | caching (reads, invalidation), messaging (outbox) | items |
| `shard_key` | each item by its id | multi-tenancy (each row by its tenant) | sharding |
| `databases` | DATABASE_URL | sharding (every shard) | `alembic upgrade heads` |
| `migrated` | nothing | sharding (its write guards) | every `alembic upgrade`, per database |
| `session_begin` | nothing | multi-tenancy (`SET LOCAL`) | every database transaction |
| `database_connect_args` | none | multi-tenancy (its connection class) | the app's engines |
| `message_headers` | nothing | multi-tenancy, tracing | messages published |
| `message_received` | nothing | multi-tenancy, tracing | messages consumed |
| `log_fields` | nothing | tracing (`trace_id`, `span_id`), multi-tenancy | every JSON log line |
| `engines` | none | sharding (every shard and replica), in its lifespan | tracing: SQL spans |
| `primaries` | the service's database | sharding (each shard's primary) | the outbox relay |
| `moved_with_buckets` | nothing | messaging (unpublished events) | resharding's fence |
| `untraced` | nothing | tracing (instrumentation suppressed) | metric samplers' queries |
| `read_ahead` | nothing | caching (the item a read serves) | rate limiting (its round trip) |

`scope_key()` turns the tenant into the part of Redis keys, buckets and topics that keeps
tenants apart; it is empty without multi-tenancy, so keys keep their single-tenant shape.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import Request
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement
from starlette.types import Scope

from .core_config import CoreSettings
from .items.hooks import ItemHooks
from .logging import LogFields

PrincipalOf = Callable[[Scope], str | None]
"""The verified caller of a request ("user:<sub>", "client:<id>"), or None when anonymous."""
Authorizer = Callable[[Request, str], Awaitable[None]]
"""Raises a problem error (401, 403) unless the caller may use `permission`."""
SessionBegin = Callable[[Connection], None]
"""Runs at the start of every database transaction, on its connection."""
MessageHeaders = Callable[[], Mapping[str, str]]
MessageReceived = Callable[[Mapping[str, str]], AbstractContextManager[Any]]
Untraced = Callable[[], AbstractContextManager[Any]]
InBuckets = Callable[[ColumnElement[Any]], ColumnElement[bool]]
"""True for the rows whose shard key (the column or expression given) is in some buckets."""
MoveWithBuckets = Callable[[AsyncEngine, AsyncEngine, InBuckets], Awaitable[int]]
"""Moves the rows a capability keeps by shard key outside the sharded tables, those of the
buckets `InBuckets` selects, from one shard's primary (first) to another's; how many moved."""
KeysIn = Callable[[AsyncConnection, InBuckets], Awaitable[list[str]]]
"""The shard keys that rows of some buckets have on one database, read on that connection."""
ActFor = Callable[[AsyncConnection, str], Awaitable[None]]
"""Makes the connection's transaction act for one shard key (multi-tenancy: `SET LOCAL` its
tenant), so that row-level security shows it that key's rows."""
Migrated = Callable[[Connection], None]
"""Runs at the end of every online `alembic upgrade`, in its transaction, on each database."""
ReadAheadOf = Callable[[Scope], str | None]
"""The Redis key a request's handler will read first, when the request alone tells it (the
path), or None; a command sent before the handler runs may read it in its own round trip."""


class Quota(Protocol):
    """A rate-limit quota: `limit` requests per `window_seconds`, `burst` of them at once
    (None: the whole limit). Hashable, so the limiter can keep what it derives from one."""

    @property
    def limit(self) -> int: ...
    @property
    def window_seconds(self) -> int: ...
    @property
    def burst(self) -> int | None: ...
    def __hash__(self) -> int: ...


QuotaOf = Callable[[str], Quota | None]
"""The caller's own quota under the rate-limit policy of that name, or None: the policy's."""


def anonymous(_: Scope) -> str | None:
    return None


async def allow(_: Request, __: str) -> None:
    return None


def nobody() -> str | None:
    return None


def the_policys_own(_: str) -> Quota | None:
    return None


def the_database(settings: CoreSettings) -> list[str]:
    return [settings.database_url]


@dataclass(slots=True)
class ShardKey:
    """Where rows live when the service is sharded: the key each row is placed by.

    `columns` names, per sharded table, the column holding each row's key (an item's own id
    unless a capability says otherwise); `current` is the key of the work in progress (the
    tenant, with multi-tenancy), which also decides where reads go when it is set.
    """

    columns: dict[str, str] = field(default_factory=lambda: {"items": "id"})
    current: Callable[[], str | None] = nobody
    keys_in: KeysIn | None = None
    """Set when a transaction sees only the rows of the key it acts for (row-level security):
    resharding then copies, checks and deletes the rows of a batch key by key, the keys
    `keys_in` finds, each in a transaction made to act for it by `act_for`. None: every row
    is seen, and a batch moves table by table."""
    act_for: ActFor | None = None

    def of_item(self, item_id: uuid.UUID) -> str:
        """The key the rows of the item being written are placed by: the current key when
        there is one (the tenant), else the item's own id."""
        return self.current() or str(item_id)


@dataclass(frozen=True, slots=True)
class Primary:
    """A database that rows of the service are written to (a shard's primary), by name."""

    name: str
    engine: AsyncEngine


@dataclass(slots=True)
class Extensions:
    principal: PrincipalOf = anonymous
    authorize: Authorizer = allow
    sensitive_paths: list[str] = field(default_factory=list)
    """Path prefixes that guard credentials: limited under the strict `sensitive` policy."""
    tenant: Callable[[], str | None] = nobody
    plan: Callable[[], str | None] = nobody
    rate_quota: QuotaOf = the_policys_own
    """The quota the caller is held to under a rate-limit policy, when not the policy's own
    (with multi-tenancy: the one the tenant's plan sets, TENANT_PLANS)."""
    items: ItemHooks = field(default_factory=ItemHooks)
    shard_key: ShardKey = field(default_factory=ShardKey)
    databases: Callable[[CoreSettings], list[str]] = the_database
    """Every database the service's tables live in: `alembic upgrade heads` migrates each.
    Given the app's settings, typed as the core's (a capability checks for its own section):
    naming `config.Settings` here would make every module that touches the extension points
    depend on every capability's section."""
    migrated: list[Migrated] = field(default_factory=list)
    """What a capability keeps true of the schema whichever migrations ran (sharding guards
    the tables `shard_key` names, which other capabilities' migrations may create later)."""
    session_begin: list[SessionBegin] = field(default_factory=list)
    database_connect_args: dict[str, Any] = field(default_factory=dict)
    """What the engines serving the app (its own, sharding's shards and replicas) pass to the
    driver's connect, `asyncpg.connect` (multi-tenancy: a connection class that sends the tenant
    with each transaction's BEGIN)."""
    message_headers: list[MessageHeaders] = field(default_factory=list)
    message_received: list[MessageReceived] = field(default_factory=list)
    log_fields: list[LogFields] = field(default_factory=list)
    engines: list[AsyncEngine] = field(default_factory=list)
    """Database engines a capability opens besides the service's own (`app.state.engine`),
    added by its lifespan; lifespans later in `capabilities.py` (tracing) see them."""
    primaries: list[Primary] = field(default_factory=list)
    """Every database that rows are written to, when there are several (one per shard), added
    by a lifespan; empty: the service's own database (`app.state.engine`) alone. Background
    work that must see every row (the outbox relay) visits each."""
    moved_with_buckets: list[MoveWithBuckets] = field(default_factory=list)
    """What resharding moves with a batch of buckets besides the sharded tables' rows, inside
    the batch's fence (no write reaches those buckets meanwhile), just before the switch; and
    moves back if the batch is undone. Messaging moves its unpublished events, so the target's
    relay publishes them before any event written there after the switch."""
    untraced: list[Untraced] = field(default_factory=list)
    """Around background work that is no request's (a metrics sampler's queries), so that it
    makes no trace of its own every interval."""
    read_ahead: list[ReadAheadOf] = field(default_factory=list)
    """Who knows, from the request alone, which Redis key its handler reads first (caching:
    the cached item of `GET /items/{id}`). Rate limiting reads it in its check's round trip
    and hands it over (`redis_client/read_ahead.py`): one round trip per request, not two."""

    def scope_key(self) -> str:
        """`tenant:<id>` while acting for a tenant, else empty: prefixes keys per tenant."""
        tenant = self.tenant()
        return f"tenant:{tenant}" if tenant else ""

    def headers(self) -> dict[str, str]:
        """Every provider's headers for a message about to be published."""
        found: dict[str, str] = {}
        for provide in self.message_headers:
            found.update(provide())
        return found

    @contextmanager
    def received(self, headers: Mapping[str, str]) -> Iterator[None]:
        """Every provider's context (tenant, trace) around the handling of one message."""
        with ExitStack() as stack:
            for enter in self.message_received:
                stack.enter_context(enter(headers))
            yield

    @contextmanager
    def untraced_work(self) -> Iterator[None]:
        """Every provider's context around background work kept out of traces."""
        with ExitStack() as stack:
            for enter in self.untraced:
                stack.enter_context(enter())
            yield


def extensions_of(request: Request) -> Extensions:
    extensions: Extensions = request.app.state.extensions
    return extensions
