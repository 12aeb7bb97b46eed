"""The open-items import on the bare stack: read the CSV (sample layout) with the csv module and
write the same rows as the service (customers, invoices, and a payment with its allocation for
each settled item) in one transaction, with INSERTs (executemany) or COPY.

This is the ceiling, not a rival implementation: it trusts the file (no per-row validation, no
duplicate or conflict checks against existing rows), which the service must not."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg

TABLES = {
    "customers": ("id", "display_name", "external_ref", "country_code", "time_zone",
                  "currency_code", "risk_class", "bankruptcy", "in_litigation", "credit_hold",
                  "version", "created_at", "updated_at"),
    "invoices": ("id", "customer_id", "external_number", "invoice_date", "due_date", "currency",
                 "amount_minor", "open_minor", "held_minor", "closed_date", "import_fingerprint",
                 "created_at"),
    "payments": ("id", "customer_id", "currency", "amount_minor", "unallocated_minor",
                 "received_date", "reference", "created_at"),
    "allocations": ("id", "invoice_id", "source_kind", "source_id", "amount_minor",
                    "applied_date", "reason_code", "created_at"),
}  # fmt: skip


def _date(text: str) -> date:
    month, day, year = text.split("/")
    return date(int(year), int(month), int(day))


def parse(data: bytes, currency: str) -> dict[str, list[tuple]]:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    header = next(reader)
    col = {name: header.index(name) for name in header}
    now = datetime.now(UTC)
    rows: dict[str, list[tuple]] = {table: [] for table in TABLES}
    customers: dict[str, str] = {}
    for fields in reader:
        ref = fields[col["customerID"]]
        customer_id = customers.get(ref)
        if customer_id is None:
            customer_id = customers[ref] = uuid.uuid4().hex
            rows["customers"].append(
                (customer_id, ref, ref, "", "UTC", currency, "MEDIUM", False, False, False, 1,
                 now, now)
            )  # fmt: skip
        invoice_date, due = _date(fields[col["InvoiceDate"]]), _date(fields[col["DueDate"]])
        amount = int(Decimal(fields[col["InvoiceAmount"]]).scaleb(2))
        settled_text = fields[col["SettledDate"]]
        settled = _date(settled_text) if settled_text else None
        fingerprint = hashlib.sha256("\x1f".join(fields).encode()).hexdigest()
        invoice_id = uuid.uuid4().hex
        rows["invoices"].append(
            (invoice_id, customer_id, fields[col["invoiceNumber"]], invoice_date, due, currency,
             amount, 0 if settled else amount, 0, max(settled, invoice_date) if settled else None,
             fingerprint, now)
        )  # fmt: skip
        if settled:
            payment_id = uuid.uuid4().hex
            number = fields[col["invoiceNumber"]]
            rows["payments"].append(
                (payment_id, customer_id, currency, amount, 0, settled, f"import:{number}", now)
            )
            rows["allocations"].append(
                (uuid.uuid4().hex, invoice_id, "PAYMENT", payment_id, amount, settled, "", now)
            )
    return rows


async def write_inserts(conn: asyncpg.Connection, rows: dict[str, list[tuple]]) -> None:
    async with conn.transaction():
        for table, columns in TABLES.items():
            if rows[table]:
                marks = ", ".join(f"${i + 1}" for i in range(len(columns)))
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                await conn.executemany(sql, rows[table])


async def write_copy(conn: asyncpg.Connection, rows: dict[str, list[tuple]]) -> None:
    async with conn.transaction():
        for table, columns in TABLES.items():
            if rows[table]:
                await conn.copy_records_to_table(table, records=rows[table], columns=columns)


async def empty_tables(conn: asyncpg.Connection) -> None:
    await conn.execute("TRUNCATE allocations, payments, invoices, customers CASCADE")
