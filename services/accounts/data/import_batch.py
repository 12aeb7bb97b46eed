"""The open-item import's set-based statements: what a chunk of rows finds already there, and the
chunk's new rows inserted a table at a time (rows built by data/rows.py, as on the ORM path)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

from sqlalchemy import String, any_, bindparam, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.data.models import AllocationRow, CustomerRow, InvoiceRow, PaymentRow
from services.accounts.data.rows import Row


async def already_there(
    session: AsyncSession, refs: Collection[str], numbers: Collection[str]
) -> tuple[dict[str, str], dict[str, str | None]]:
    """Ids of the customers with these references and fingerprints of the invoices with these
    numbers, of those already in the database."""
    postgres = session.bind.dialect.name == "postgresql"
    async with custom_plans(session):
        customers = await session.execute(
            select(CustomerRow.external_ref, CustomerRow.id).where(
                _one_of(CustomerRow.external_ref, refs, postgres)
            )
        )
        invoices = await session.execute(
            select(InvoiceRow.external_number, InvoiceRow.import_fingerprint).where(
                _one_of(InvoiceRow.external_number, numbers, postgres)
            )
        )
    return dict(customers.tuples().all()), dict(invoices.tuples().all())


@asynccontextmanager
async def custom_plans(session: AsyncSession) -> AsyncIterator[None]:
    """The statements inside planned for each chunk's values on PostgreSQL: a prepared
    statement's generic plan, made while the tables were small (a first import), stays a
    sequential scan as the import grows them (4.7 s a chunk by the end of 100,000 rows). Only
    for the statements that look rows up by a chunk's keys: re-planning every INSERT of the chunk
    would double PostgreSQL's CPU per row."""
    postgres = session.bind.dialect.name == "postgresql"
    if postgres:
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    yield
    if postgres:
        await session.execute(text("SET LOCAL plan_cache_mode TO DEFAULT"))


def _one_of(column, values: Collection[str], postgres: bool):
    """`column IN (…)`; on PostgreSQL `= ANY(array)`, one parameter, so the statement is not
    rendered anew with a thousand placeholders for every chunk (~8 % of the import's CPU)."""
    if postgres:
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    return column.in_(values)


async def insert_chunk(
    session: AsyncSession,
    customers: list[Row],
    invoices: list[Row],
    payments: list[Row],
    allocations: list[Row],
) -> None:
    for model, values in (
        (CustomerRow, customers),
        (InvoiceRow, invoices),
        (PaymentRow, payments),
        (AllocationRow, allocations),
    ):
        if values:
            # Core, not ORM: ORM bulk inserts drop None values and split the rows into many
            # small batches by key set (settled and open invoices interleave).
            await session.execute(insert(model.__table__), values)
