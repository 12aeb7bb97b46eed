"""The rows of a brand-new case written with Core: one INSERT per table (several rows in one
statement), in foreign-key order, instead of the unit of work's bookkeeping per object. The rows
are ORM objects that were never added to the session: the answer is built from them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from services.disputes.data.models import Base

_INSERTS = {table: table.insert() for table in Base.metadata.sorted_tables}


def _values(row) -> dict:
    """Every column of the row; a key left unset (history's autoincrement id) is the database's."""
    table: Table = row.__table__
    return {
        c.key: getattr(row, c.key)
        for c in table.columns
        if not c.primary_key or c.key in row.__dict__
    }


async def insert_new(
    session: AsyncSession, rows: list, values: Mapping[Table, list[dict]] | None = None
) -> None:
    """`rows` are ORM objects; `values`, more rows as column values by table (outbox events)."""
    by_table: dict[Table, list[dict]] = defaultdict(list, values or {})
    for row in rows:
        by_table[row.__table__].append(_values(row))
    conn = await session.connection()  # Core statements: no ORM execution machinery
    for table, insert in _INSERTS.items():  # parents before children
        if table in by_table:
            await conn.execute(insert, by_table[table])
