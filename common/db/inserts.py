"""New rows of several tables written together (a case with its items, clocks, history and
outbox events; a hold with its first movement), in the caller's transaction.

On PostgreSQL they go in one statement, whatever the number of rows: one data-modifying CTE per
table, each inserting `unnest` of one array per column (the foreign keys are checked at the end
of the statement, so parents and children may share it). The statement is built once per shape
(tables and columns) and runs through `exec_driver_sql`, so SQLAlchemy still begins the
transaction, wraps driver errors and shows the statement to its listeners (the database span, the
tests that count statements); values pass the columns' bind processors as `conn.execute` would
apply them (common/db/driver_reads.py does the same for reads). One statement instead of one per
table is one round trip and one execution instead of seven for a new case.

SQLite (in-process, no round trip) gets one multi-row INSERT per table, parents first.

Rows are inserted as given: a table's rows all carry the same columns, and a column left out
takes its server default, never its Python one (the row builders give every column)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import sort_tables

from common.db.driver_reads import bind_processor

Rows = Mapping[Table, Sequence[Mapping[str, Any]]]
Shape = tuple[tuple[Table, tuple[str, ...]], ...]


async def insert_rows(conn: AsyncConnection, rows: Rows) -> None:
    """Inserts every row of `rows` (table -> column values), parents before children."""
    tables = _in_order(frozenset(t for t, r in rows.items() if r))
    if not tables:
        return
    if conn.dialect.name != "postgresql":
        for table in tables:
            await conn.execute(table.insert(), list(rows[table]))
        return
    shape: Shape = tuple((t, tuple(rows[t][0])) for t in tables)
    statement = _statement(shape, conn.dialect)
    await conn.exec_driver_sql(statement.sql, statement.arguments(shape, rows))


@functools.lru_cache(maxsize=64)
def _in_order(tables: frozenset[Table]) -> tuple[Table, ...]:
    return tuple(sort_tables(tables))


class _Statement:
    """One shape's SQL and each column's bind processor, for one dialect."""

    def __init__(self, shape: Shape, dialect: Dialect):
        parts, n = [], 0
        self.binders = []
        for table, columns in shape:
            arrays = []
            for name in columns:
                column = table.c[name]
                n += 1
                arrays.append(f"${n}::{column.type.compile(dialect=dialect)}[]")
                self.binders.append(bind_processor(column.type, dialect))
            names = ", ".join(dialect.identifier_preparer.quote(table.c[c].name) for c in columns)
            insert = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "
            parts.append(insert + f"SELECT * FROM unnest({', '.join(arrays)})")
        *ctes, last = parts
        with_ = ", ".join(f"i{n} AS ({sql})" for n, sql in enumerate(ctes))
        self.sql = f"WITH {with_} {last}" if ctes else last

    def arguments(self, shape: Shape, rows: Rows) -> tuple[list[Any], ...]:
        """One array per column, in the statement's order, its values bound as SQLAlchemy binds
        them (aware UTC datetimes, …)."""
        arrays: list[list[Any]] = []
        binders = iter(self.binders)
        for table, columns in shape:
            table_rows = rows[table]
            for name in columns:
                binder = next(binders)
                values = [row[name] for row in table_rows]
                arrays.append(values if binder is None else [binder(v) for v in values])
        return tuple(arrays)


_statements: dict[tuple[Shape, str], _Statement] = {}
MAX_SHAPES = 256  # a few per use case (with or without a note, …)


def _statement(shape: Shape, dialect: Dialect) -> _Statement:
    key = (shape, f"{dialect.name}+{dialect.driver}")
    found = _statements.get(key)
    if found is None:
        if len(_statements) >= MAX_SHAPES:
            _statements.clear()
        found = _statements[key] = _Statement(shape, dialect)
    return found
