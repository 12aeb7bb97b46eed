"""Import of open items from CSV: validated in the domain, written here in chunks.

The whole file is checked first (the domain's first pass: a file that cannot be imported writes
nothing); the second pass then parses it row by row, and accepted rows are written as they come,
a chunk at a time, so only a chunk of parsed rows is held (`import_plan`). Each chunk is one
transaction, so a row's customer, invoice and settling payment are written together or not at
all. A row already present with the same content is skipped; one present with other content is
rejected. Re-importing a file therefore changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import String, any_, bindparam, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from common.ids import new_id
from services.accounts.data.models import AllocationRow, CustomerRow, InvoiceRow, PaymentRow
from services.accounts.domain.csv_import import ColumnMapping, ParsedRow, RejectedRow
from services.accounts.domain.import_plan import plan_rows, survey
from services.accounts.domain.records import SourceKind
from services.accounts.service.context import AccountsContext

CONFLICT = "CONFLICTS_WITH_EXISTING"


@dataclass
class ImportResult:
    rows_read: int = 0
    imported: int = 0
    skipped: int = 0
    customers_created: int = 0
    payments_recorded: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


async def import_open_items(
    ctx: AccountsContext, lines: Iterable[str], mapping: ColumnMapping, currency: str
) -> ImportResult:
    lines = lines if isinstance(lines, list | tuple) else list(lines)  # read twice
    found = survey(lines, mapping, currency)
    result = ImportResult(rows_read=found.rows_read)
    chunk: list[ParsedRow] = []
    for outcome in plan_rows(lines, mapping, currency, found):
        if isinstance(outcome, ParsedRow):
            chunk.append(outcome)
            if len(chunk) == ctx.import_chunk_rows:
                await _write_chunk(ctx, chunk, result)
                chunk = []
        elif isinstance(outcome, RejectedRow):
            result.rejected.append(outcome)
        else:
            result.skipped += 1  # repeated in the file with the same content
    if chunk:
        await _write_chunk(ctx, chunk, result)
    result.rejected.sort(key=lambda r: r.line_no)
    return result


async def _write_chunk(ctx: AccountsContext, rows: list[ParsedRow], result: ImportResult) -> None:
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        customers, existing = await _already_there(session, rows)
        new_customers, invoices, payments, allocations = [], [], [], []
        for row in rows:
            fingerprint = row.fingerprint()
            if row.invoice_number in existing:
                if existing[row.invoice_number] == fingerprint:
                    result.skipped += 1
                else:
                    result.rejected.append(
                        RejectedRow(
                            row.line_no,
                            CONFLICT,
                            f"invoice {row.invoice_number} already exists with different content",
                        )
                    )
                continue
            if row.customer_ref not in customers:
                customers[row.customer_ref] = new_id()
                new_customers.append(_customer(customers[row.customer_ref], row, now))
            invoice_id = new_id()
            settled = row.settled_date is not None
            invoices.append(
                _invoice(invoice_id, customers[row.customer_ref], row, fingerprint, now)
            )
            if settled:
                payment_id = new_id()
                payments.append(_payment(payment_id, customers[row.customer_ref], row, now))
                allocations.append(_allocation(invoice_id, payment_id, row, now))
            existing[row.invoice_number] = fingerprint
        for model, values in (
            (CustomerRow, new_customers),
            (InvoiceRow, invoices),
            (PaymentRow, payments),
            (AllocationRow, allocations),
        ):
            if values:
                # Core, not ORM: ORM bulk inserts drop None values and split the rows into
                # many small batches by key set (settled and open invoices interleave).
                await session.execute(insert(model.__table__), values)
    result.customers_created += len(new_customers)
    result.imported += len(invoices)
    result.payments_recorded += len(payments)


async def _already_there(session, rows: list[ParsedRow]) -> tuple[dict, dict]:
    """Ids of the chunk's customers (by reference) and fingerprints of its invoices (by number)
    already in the database."""
    postgres = session.bind.dialect.name == "postgresql"
    if postgres:
        # Planned for each chunk's values: a prepared statement's generic plan, made while the
        # tables were small (a first import), stays a sequential scan as the import grows them
        # (4.7 s a chunk by the end of 100,000 rows). Only here: re-planning every INSERT of the
        # chunk would double PostgreSQL's CPU per row.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    refs = {r.customer_ref for r in rows}
    numbers = {r.invoice_number for r in rows}
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
    found = dict(customers.all()), dict(invoices.all())
    if postgres:
        await session.execute(text("SET LOCAL plan_cache_mode TO DEFAULT"))
    return found


def _one_of(column, values: set[str], postgres: bool):
    """`column IN (…)`; on PostgreSQL `= ANY(array)`, one parameter, so the statement is not
    rendered anew with a thousand placeholders for every chunk (~8 % of the import's CPU)."""
    if postgres:
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    return column.in_(values)


def _customer(customer_id: str, row: ParsedRow, now) -> dict:
    return dict(
        id=customer_id,
        display_name=row.customer_ref,
        external_ref=row.customer_ref,
        country_code="",
        time_zone="UTC",
        currency_code=row.amount.currency,
        risk_class="MEDIUM",
        bankruptcy=False,
        in_litigation=False,
        credit_hold=False,
        version=1,
        created_at=now,
        updated_at=now,
    )


def _invoice(invoice_id: str, customer_id: str, row: ParsedRow, fingerprint: str, now) -> dict:
    settled = row.settled_date is not None
    return dict(
        id=invoice_id,
        customer_id=customer_id,
        external_number=row.invoice_number,
        invoice_date=row.invoice_date,
        due_date=row.due_date,
        currency=row.amount.currency,
        amount_minor=row.amount.minor,
        open_minor=0 if settled else row.amount.minor,
        held_minor=0,
        closed_date=max(row.settled_date, row.invoice_date) if settled else None,
        import_fingerprint=fingerprint,
        created_at=now,
    )


def _payment(payment_id: str, customer_id: str, row: ParsedRow, now) -> dict:
    return dict(
        id=payment_id,
        customer_id=customer_id,
        currency=row.amount.currency,
        amount_minor=row.amount.minor,
        unallocated_minor=0,
        received_date=row.settled_date,
        reference=f"import:{row.invoice_number}",
        created_at=now,
    )


def _allocation(invoice_id: str, payment_id: str, row: ParsedRow, now) -> dict:
    return dict(
        id=new_id(),
        invoice_id=invoice_id,
        source_kind=SourceKind.PAYMENT.value,
        source_id=payment_id,
        amount_minor=row.amount.minor,
        applied_date=row.settled_date,
        reason_code="",
        created_at=now,
    )
