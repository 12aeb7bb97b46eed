"""Display reads run straight on the driver: a prebuilt Core statement is compiled once per
dialect and, on PostgreSQL, executed with asyncpg's own `fetch` on the connection the reading unit
already holds. SQLAlchemy's per-execution work (a greenlet hop, the cursor adapter, execution
context, result metadata and Row objects: ~0.3 ms of CPU per read, more than the statement's own
round trip) is skipped; its bind and result processors still run, so values are what
`conn.execute` gives (tests/common/test_driver_reads.py compares the two).

The plain `conn.execute` path is kept where it matters: SQLite, a transaction whose BEGIN has not
been sent yet (a read inside a transaction must follow it: after the transaction's first statement
it runs on the driver inside the same transaction), and a recorded trace (the database span comes
from SQLAlchemy's instrumentation, common/db/spans.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry import trace
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select
from sqlalchemy.sql.selectable import CompoundSelect, TextualSelect

from common.db.database import AUTOCOMMIT

Statement = Select | CompoundSelect | TextualSelect
Processor = Callable[[Any], Any]  # SQLAlchemy's bind and result processors
MAX_PREPARED = 1024  # statements are module constants or LRU-cached shapes: a few hundred at most


def bind_processor(type_: Any, dialect: Dialect) -> Processor | None:
    """What SQLAlchemy applies to a value of `type_` before the driver sees it (None: nothing)."""
    return type_.dialect_impl(dialect).bind_processor(dialect)


class _Prepared:
    """One statement compiled for one dialect: its SQL, how its parameters are laid out and
    processed, and (after the first run tells the column types) its result processors."""

    def __init__(self, statement: Statement, dialect: Dialect):
        compiled = statement.compile(dialect=dialect)
        self.statement, self.dialect, self.compiled = statement, dialect, compiled
        self.sql = compiled.string
        # IN lists (expanding) and literal-execute parameters are rendered per call
        self.per_call = "__[POSTCOMPILE_" in self.sql
        self.names = tuple(compiled.positiontup or ())
        self.defaults = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if bind.value is not None or bind.callable is not None
        }
        binders = {name: bind_processor(b.type, dialect) for name, b in compiled.binds.items()}
        self.binders: Mapping[str, Processor] = {n: b for n, b in binders.items() if b is not None}
        self.types = [column.type for column in statement.selected_columns]
        self.results: list[tuple[int, Processor]] | None = None  # known after the first run

    def arguments(self, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        if self.per_call:
            state = self.compiled.construct_expanded_state(dict(params))
            sql, names, values = state.statement, state.positiontup, state.parameters
            binders: Mapping[str, Processor] = state.processors
        else:
            sql, names, binders = self.sql, self.names, self.binders
            values = params if not self.defaults else {**self.defaults, **params}
        args = []
        for name in names or ():
            value = values[name]
            binder = binders.get(name)
            args.append(binder(value) if binder is not None else value)
        return sql, args

    def learn_results(self, type_oids: Sequence[int]) -> None:
        if len(type_oids) != len(self.types):
            raise RuntimeError(f"{len(type_oids)} columns, {len(self.types)} selected: {self.sql}")
        results: list[tuple[int, Processor]] = []
        for n, (type_, oid) in enumerate(zip(self.types, type_oids, strict=True)):
            processor = type_.dialect_impl(self.dialect).result_processor(self.dialect, oid)
            if processor is not None:
                results.append((n, processor))
        self.results = results


_prepared: dict[tuple[int, int], _Prepared] = {}


def _prepared_for(statement: Statement, dialect: Dialect) -> _Prepared:
    key = (id(statement), id(dialect))
    found = _prepared.get(key)
    # ids are reused once an object is gone: the entry must hold this very statement
    if found is None or found.statement is not statement or found.dialect is not dialect:
        if len(_prepared) >= MAX_PREPARED:
            _prepared.clear()
        found = _prepared[key] = _Prepared(statement, dialect)
    return found


def _driver_of(conn: AsyncConnection) -> Any | None:
    """The asyncpg connection under `conn` when the read may run on it, else None."""
    sync = conn.sync_connection
    if sync is None or conn.dialect.driver != "asyncpg" or trace.get_current_span().is_recording():
        return None
    if sync.get_execution_options().get("isolation_level") != AUTOCOMMIT and not getattr(
        sync.connection.dbapi_connection, "_started", False
    ):
        # In a transaction, only once SQLAlchemy's asyncpg adapter has sent its BEGIN (with the
        # transaction's first statement): the read then runs inside it, on its snapshot.
        return None
    return sync.connection.driver_connection


async def fetch_rows(
    conn: AsyncConnection, statement: Statement, params: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows of a prebuilt SELECT, as sequences of column values in the statement's order."""
    driver = _driver_of(conn)
    if driver is None:
        return list(await conn.execute(statement, dict(params)))
    prepared = _prepared_for(statement, conn.dialect)
    sql, args = prepared.arguments(params)
    sync = conn.sync_connection
    if sync is not None and sync.dispatch.before_cursor_execute:
        # Listeners still see every statement run (tests count them); there is no cursor or
        # execution context here, and the database spans' listener skips it (not recording).
        sync.dispatch.before_cursor_execute(sync, None, sql, args, None, False)
    try:
        if prepared.results is None:
            on_server = await driver.prepare(sql)
            prepared.learn_results([a.type.oid for a in on_server.get_attributes()])
            records = await on_server.fetch(*args)
        else:
            records = await driver.fetch(sql, *args)
    except Exception as exc:
        if driver.is_closed():  # the server went away: what common/db/database.py calls down
            raise ConnectionResetError("the database connection is closed") from exc
        raise
    results = prepared.results
    if not results:
        return records
    rows = []
    for record in records:
        row = list(record)
        for n, process in results:
            row[n] = process(row[n])
        rows.append(row)
    return rows
