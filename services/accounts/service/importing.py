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

from common.ids import new_id
from services.accounts.data import customer_facts, import_batch, rows
from services.accounts.domain.csv_import import ColumnMapping, ParsedRow, RejectedRow
from services.accounts.domain.import_plan import plan_rows, survey
from services.accounts.domain.records import CustomerData, FundsData, InvoiceData, SourceKind
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
    if iter(lines) is lines:  # a one-shot iterator; a list or a re-readable file is read twice
        lines = list(lines)
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


async def _write_chunk(ctx: AccountsContext, chunk: list[ParsedRow], result: ImportResult) -> None:
    now = ctx.clock.now()
    async with ctx.db.transaction() as session:
        customers, existing = await import_batch.already_there(
            session, {r.customer_ref for r in chunk}, {r.invoice_number for r in chunk}
        )
        new_customers, invoices, payments, allocations = [], [], [], []
        for row in chunk:
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
            ref = row.customer_ref
            if ref not in customers:
                customers[ref] = new_id()
                customer = CustomerData(ref, external_ref=ref, currency_code=row.amount.currency)
                new_customers.append(rows.customer(customers[ref], customer, now))
            invoice_id = new_id()
            invoice = InvoiceData(
                customers[ref], row.invoice_number, row.invoice_date, row.due_date, row.amount
            )
            closed = (
                max(row.settled_date, row.invoice_date) if row.settled_date is not None else None
            )
            invoices.append(
                rows.invoice(
                    invoice_id, invoice, now, closed_date=closed, import_fingerprint=fingerprint
                )
            )
            if row.settled_date is not None:
                payment_id = new_id()
                settling = FundsData(
                    customers[ref], row.amount, row.settled_date, f"import:{row.invoice_number}"
                )
                payments.append(rows.payment(payment_id, settling, now, unallocated_minor=0))
                allocations.append(
                    rows.allocation(
                        invoice_id,
                        SourceKind.PAYMENT,
                        payment_id,
                        row.amount.minor,
                        row.settled_date,
                        now,
                    )
                )
            existing[row.invoice_number] = fingerprint
        await import_batch.insert_chunk(session, new_customers, invoices, payments, allocations)
        # appended only: the summary adds the new invoices (no customer's book is re-read)
        new_invoices = [invoice["id"] for invoice in invoices]
        async with import_batch.custom_plans(session):  # it reads the chunk's invoices by id
            await customer_facts.add_invoices(session, new_invoices, ctx.clock.today())
    result.customers_created += len(new_customers)
    result.imported += len(invoices)
    result.payments_recorded += len(payments)
