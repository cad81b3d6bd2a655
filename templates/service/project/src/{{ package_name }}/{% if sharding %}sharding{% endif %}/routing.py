"""Which database each statement goes to: SQLAlchemy's horizontal sharding, plus replicas.

`RoutedSession` is a `ShardedSession` (sqlalchemy.ext.horizontal_shard) whose choosers read the
shard map, so the items code (`session.get`, `add`, `flush`, `delete`) needs no change:

- a new row goes to the shard of its key's bucket (`shard_chooser`); the key is the column
  `extensions.shard_key.columns` names for its table (an item's id), which exists before the
  flush. A row of a table that is not sharded lives with the work in progress: the shard the
  session is writing to, else the current key's (the tenant's), else shard 0;
- `get` by primary key asks the one shard of that key's bucket (`identity_chooser`, and
  `get` passes that shard on as the identity token);
- a query that names no shard (no `set_shard_id`, no `bind_arguments={"shard_id": ...}`) runs
  on the shards its WHERE clause pins the key column to (`==`, `IN`), else the current key's
  shard; a statement about no sharded table (an outbox insert, a NOTIFY) inside a transaction
  open on one shard's primary runs there, with the write it belongs to; else every shard, the
  rows concatenated in shard order (`execute_chooser`, SQLAlchemy's own behaviour). Such
  fan-outs are counted; ordered, paginated reads across shards use `scatter.py` instead.

Each session takes a snapshot of the map when it starts, so one unit of work never sees two
maps. Within a request (the context that `middleware.py` sets), a session of a read-only
request (GET, HEAD) binds each shard to a replica that `replicas.py` finds usable for the
client's consistency token, else to the primary; every other session binds to primaries, and
the shards it commits to are recorded for the response's token (in a GET or HEAD, only when it
flushed rows: with replica reads off, a read's token would cost a round trip and say nothing).
"""

from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, Engine, Result
from sqlalchemy.ext.horizontal_shard import ShardedQuery, ShardedSession, set_shard_id
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, ColumnClause

from .tokens import Positions, positions_of

if TYPE_CHECKING:
    from .runtime import ShardingRuntime


@dataclass(slots=True)
class RequestRouting:
    """What one HTTP request may read from, and what it wrote."""

    replicas_allowed: bool
    token: bytes = b""
    """The client's consistency token as sent (`tokens.checked_token` passed it), else empty."""
    safe: bool = False
    """A GET or HEAD: its sessions' commits count for the token only if they wrote rows (a
    read's commit wrote nothing a later read could miss, and a token costs a round trip)."""
    committed: set[int] = field(default_factory=set)
    """Shards a session of this request committed to (their positions go into the token)."""
    replicas_used: set[tuple[int, int]] = field(default_factory=set)
    """(shard, replica number) read from, so a failure can be pinned on them."""
    _positions: Positions | None = field(default=None, init=False)

    @property
    def tokens(self) -> Positions:
        """The token's positions, parsed on first use: most requests never use them."""
        if self._positions is None:
            self._positions = positions_of(self.token) if self.token else {}
        return self._positions


request_routing: ContextVar[RequestRouting | None] = ContextVar("request_routing", default=None)
primaries_only: ContextVar[bool] = ContextVar("primaries_only", default=False)
"""Set around reads whose result outlives the request (a cache fill): see capability.py."""


_mappers: dict[Any, Mapper[Any]] = {}
"""`get`'s mapped classes (fixed once the models are imported) -> their mappers."""


class UnplacedRowError(RuntimeError):
    """A row whose shard cannot be told: its key is not set, or its work spans shards."""


class RoutedSession(ShardedSession):
    def __init__(self, *, sharding: "ShardingRuntime", **options: Any) -> None:
        # Not ShardedSession.__init__: it adds its statement listener to every new session,
        # which costs more than all of the routing below; the listener is added once, to this
        # class, after it. get_bind (below) replaces its table of shards.
        # The choosers are this class's methods, not bound methods kept on the instance as
        # ShardedSession keeps its arguments: a session holding its own bound method is a
        # reference cycle, so each request's session (its identity map, its transaction) was
        # freed only by the garbage collector instead of when the request let go of it.
        Session.__init__(self, query_cls=ShardedQuery, **options)
        self.sharding = sharding
        self.shard_map = sharding.shard_map()
        self._servers: dict[int, Engine] = {}
        self._writing_to: set[int] = set()
        self._primaries_open: set[int] = set()
        """Shards whose primary a transaction of this session is open on (for the token)."""
        self._flushed = False

    # -- which shard ------------------------------------------------------------------------

    def _key_column(self, mapper: Mapper[Any] | None) -> str | None:
        if mapper is None:
            return None
        return self.sharding.key_column(mapper)[0]

    def place(self, mapper: Mapper[Any], instance: object) -> int:
        """The shard a row lives on (assigned once, like ShardedSession does)."""
        state = inspect(instance)
        if state.key is not None or state.identity_token is not None:
            return int(state.key[2] if state.key is not None else state.identity_token)
        column = self._key_column(mapper)
        if column is None:
            shard = self._shard_of_work()
        else:
            key = getattr(instance, column)
            if key is None:
                raise UnplacedRowError(
                    f"{mapper.class_.__name__}.{column} (its shard key) must be set before the "
                    "flush: the row's shard depends on it"
                )
            shard = self.shard_map.shard_of(str(key))
            self._writing_to.add(shard)
        state.identity_token = str(shard)
        return shard

    def transaction_ended(self) -> None:
        self._writing_to.clear()
        self._primaries_open.clear()
        self._flushed = False

    def _shard_of_work(self) -> int:
        current = self.sharding.shard_key.current()
        if current is not None:
            return self.shard_map.shard_of(current)
        if len(self._writing_to) > 1:
            raise UnplacedRowError(
                "a row of a table that is not sharded, written with rows of several shards: "
                "which shard should it live on? Write it in a session of its own."
            )
        return next(iter(self._writing_to), 0)

    def shard_chooser(  # type: ignore[override]
        self, mapper: Mapper[Any] | None, instance: object, clause: Any = None, **_: Any
    ) -> str:
        if instance is not None and mapper is not None:
            return str(self.place(mapper, instance))
        return str(self._shard_of_work())

    def identity_chooser(  # type: ignore[override]
        self, mapper: Mapper[Any], primary_key: Any, *, lazy_loaded_from: Any, **_: Any
    ) -> list[str]:
        if lazy_loaded_from is not None and lazy_loaded_from.identity_token is not None:
            return [lazy_loaded_from.identity_token]
        column, is_primary_key = self.sharding.key_column(mapper)
        if column is not None and is_primary_key:
            value = primary_key[0] if isinstance(primary_key, tuple | list) else primary_key
            return [str(self.shard_map.shard_of(str(value)))]
        current = self.sharding.shard_key.current()
        if current is not None:
            return [str(self.shard_map.shard_of(current))]
        return [shard.id for shard in self.sharding.shards]

    def execute_chooser(self, orm_context: ORMExecuteState) -> Iterable[str]:
        keys = self._keys_compared(orm_context)
        if keys:
            return sorted({str(self.shard_map.shard_of(key)) for key in keys})
        current = self.sharding.shard_key.current()
        if current is not None:
            return [str(self.shard_map.shard_of(current))]
        open_on = self._primaries_open
        if len(open_on) == 1 and self._key_column(orm_context.bind_mapper) is None:
            return [str(next(iter(open_on)))]
        self.sharding.stats.fan_outs += 1
        return [shard.id for shard in self.sharding.shards]

    def _keys_compared(self, orm_context: ORMExecuteState) -> list[str]:
        """The key values a SELECT's WHERE clause compares its key column to (== or IN)."""
        statement = orm_context.statement
        where = getattr(statement, "whereclause", None)
        column = self._key_column(orm_context.bind_mapper)
        if where is None or column is None:
            return []
        keys: list[str] = []

        def compare(binary: BinaryExpression[Any]) -> None:
            left, right = binary.left, binary.right
            if not (isinstance(left, ColumnClause) and left.key == column):
                return
            if isinstance(right, BindParameter) and binary.operator in (
                operators.eq,
                operators.in_op,
            ):
                value = right.effective_value
                parameters = orm_context.parameters
                if value is None and isinstance(parameters, dict):
                    value = parameters.get(right.key)
                values = value if isinstance(value, list | tuple) else [value]
                keys.extend(str(v) for v in values if v is not None)

        visitors.traverse(where, {}, {"binary": compare})
        return keys

    def get(self, entity: Any, ident: Any, *, identity_token: Any = None, **options: Any) -> Any:
        """`Session.get`, on the one shard the key's bucket is on when the key tells."""
        if identity_token is None:
            mapper = _mappers.get(entity)
            if mapper is None:  # inspect() costs more than the rest of the choice: once a class
                mapper = inspect(entity)
                if isinstance(entity, type):  # not an alias made per call: the dict would grow
                    _mappers[entity] = mapper
            shards = self.identity_chooser(mapper, ident, lazy_loaded_from=None)
            if len(shards) == 1:
                identity_token = shards[0]
        return super().get(entity, ident, identity_token=identity_token, **options)

    # -- which server of the shard ----------------------------------------------------------

    def get_bind(
        self,
        mapper: Any = None,
        *,
        shard_id: str | None = None,
        instance: Any = None,
        clause: Any = None,
        **_: Any,
    ) -> Engine:
        if shard_id is None:
            shard_id = self._choose_shard_and_assign(mapper, instance=instance, clause=clause)
        shard = int(shard_id)
        bind = self._servers.get(shard)
        if bind is None:
            bind = self._servers[shard] = self._choose_server(shard)
        return bind

    def _choose_server(self, shard: int) -> Engine:
        routing = request_routing.get()
        if routing is None or not routing.replicas_allowed:
            self.sharding.stats.writes[shard] += 1
            return self.sharding.shards[shard].primary.sync_engine
        tracker = None
        if not primaries_only.get():
            tracker = self.sharding.usable_replica(shard, routing.tokens.get(shard))
        if tracker is None:
            self.sharding.stats.reads[shard, "primary"] += 1
            return self.sharding.shards[shard].primary.sync_engine
        routing.replicas_used.add((shard, tracker.replica.number))
        self.sharding.stats.reads[shard, "replica"] += 1
        return tracker.replica.engine.sync_engine


@event.listens_for(RoutedSession, "do_orm_execute", retval=True)
def _execute_on_shards(orm_context: ORMExecuteState) -> Result[Any] | None:
    """SQLAlchemy's `execute_and_instances`, without running the statement again from the hook
    when it goes to one shard (a `get`, a query of one key): the shard goes into the bind
    arguments the execution in progress passes to `get_bind`, and the rows are that shard's
    (identity token), as they are when the hook runs it. Several shards: each in turn, merged."""
    shard_id, tokened = _shard_named(orm_context)
    if shard_id is None:
        session = cast(RoutedSession, orm_context.session)
        shards = list(session.execute_chooser(orm_context))
        if len(shards) != 1:
            partial = [_execute_on(orm_context, shard) for shard in shards]
            return partial[0].merge(*partial[1:])
        shard_id = shards[0]
    orm_context.bind_arguments["shard_id"] = shard_id
    if not tokened:  # a `get`'s load options already carry it: no new execution options
        orm_context.update_execution_options(identity_token=shard_id)
    return None


def _shard_named(orm_context: ORMExecuteState) -> tuple[Any, bool]:
    """The shard the statement names (as `execute_and_instances` looks for it), else None;
    and whether that shard is already the identity token of the rows it loads."""
    # The statement's own options, as `_non_compile_orm_options` lists them (set_shard_id is
    # one), without that property's list: a `get` has none.
    for option in orm_context.statement._with_options:
        if isinstance(option, set_shard_id):
            return option.shard_id, False
    if orm_context.is_select:
        options: Any = orm_context.load_options
    elif orm_context.is_update or orm_context.is_delete:
        options = orm_context.update_delete_options
    else:
        options = None
    if options is not None and options._identity_token is not None:
        return options._identity_token, True
    if "_sa_shard_id" in orm_context.execution_options:
        return orm_context.execution_options["_sa_shard_id"], False
    return orm_context.bind_arguments.get("shard_id"), False


def _execute_on(orm_context: ORMExecuteState, shard_id: str) -> Result[Any]:
    orm_context.update_execution_options(identity_token=shard_id)
    return orm_context.invoke_statement(bind_arguments={"shard_id": shard_id})


@event.listens_for(RoutedSession, "before_flush")
def _place_new_rows(session: Session, *_: Any) -> None:
    """Place the sharded rows first, so rows of other tables know the work's shard."""
    session = cast(RoutedSession, session)
    for instance in session.new:
        mapper = inspect(instance).mapper
        if session._key_column(mapper) is not None:
            session.place(mapper, instance)


@event.listens_for(RoutedSession, "after_begin")
def _note_primary(session: Session, _: SessionTransaction, connection: Connection) -> None:
    session = cast(RoutedSession, session)
    shard = session.sharding.shard_of_primary(connection.engine)
    if shard is not None:
        session._primaries_open.add(shard)


@event.listens_for(RoutedSession, "after_flush")
def _note_flush(session: Session, _: Any) -> None:
    cast(RoutedSession, session)._flushed = True


@event.listens_for(RoutedSession, "after_commit")
def _note_commit(session: Session) -> None:
    session = cast(RoutedSession, session)
    routing = request_routing.get()
    counts = session._flushed or (routing is not None and not routing.safe)
    if routing is not None and not routing.replicas_allowed and counts:
        routing.committed |= session._primaries_open  # copied: the set is cleared below
    session.transaction_ended()


@event.listens_for(RoutedSession, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    cast(RoutedSession, session).transaction_ended()
