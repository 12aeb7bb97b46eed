"""The SQL the accounts service runs for the benchmarked calls, written by hand for asyncpg: the
same statements (same tables, predicates, ordering and follow-up loads) without SQLAlchemy.

Each function runs in one transaction on the connection it is given."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

CUSTOMER_COLUMNS = (
    "id, display_name, external_ref, country_code, time_zone, currency_code, risk_class, "
    "credit_limit_minor, credit_limit_currency, bankruptcy, in_litigation, credit_hold, version, "
    "created_at, updated_at"
)
INVOICE_COLUMNS = (
    "id, customer_id, billing_account_id, external_number, invoice_date, due_date, currency, "
    "amount_minor, open_minor, held_minor, closed_date, import_fingerprint, created_at"
)
# What SQLAlchemy's selectin loaders issue for Customer.contacts, Invoice.lines and Invoice.holds.
CONTACTS = (
    "SELECT customer_id, position, name, email, phone, language, role FROM contacts "
    "WHERE customer_id = ANY($1::varchar[]) ORDER BY position"
)
LINES = (
    "SELECT invoice_id, line_number, description, quantity, amount_minor, kind "
    "FROM invoice_lines WHERE invoice_id = ANY($1::varchar[]) ORDER BY line_number"
)
HOLDS = (
    "SELECT id, invoice_id, dispute, amount_minor, created_at, updated_at FROM holds "
    "WHERE invoice_id = ANY($1::varchar[]) ORDER BY created_at"
)
OPEN_INVOICES_OF_CUSTOMER = (
    f"SELECT {INVOICE_COLUMNS} FROM invoices WHERE customer_id = $1 "
    "AND CASE WHEN open_minor > 0 THEN 'OPEN' ELSE 'CLOSED' END = 'OPEN' "
    "ORDER BY due_date, id LIMIT $2 OFFSET 0"
)
# Default buckets "0,30,60,90,120": (code, label, min days past due, max days past due).
BUCKETS = (
    ("CURRENT", "Current", None, 0),
    ("D1_30", "1–30", 1, 30),
    ("D31_60", "31–60", 31, 60),
    ("D61_90", "61–90", 61, 90),
    ("D91_120", "91–120", 91, 120),
    ("D120_PLUS", "120+", 121, None),
)


async def get_customer(conn: asyncpg.Connection, customer_id: str):
    async with conn.transaction():
        customer = await conn.fetchrow(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1", customer_id
        )
        contacts = await conn.fetch(CONTACTS, [customer_id]) if customer else []
    return customer, contacts


async def list_open_invoices(conn: asyncpg.Connection, customer_id: str, page_size: int):
    async with conn.transaction():
        invoices = await conn.fetch(OPEN_INVOICES_OF_CUSTOMER, customer_id, page_size)
        ids = [r["id"] for r in invoices]
        lines = await conn.fetch(LINES, ids) if ids else []
        holds = await conn.fetch(HOLDS, ids) if ids else []
    return invoices, lines, holds


async def get_invoice(conn: asyncpg.Connection, invoice_id: str):
    async with conn.transaction():
        invoices = await conn.fetch(
            f"SELECT {INVOICE_COLUMNS} FROM invoices WHERE id = $1", invoice_id
        )
        lines = await conn.fetch(LINES, [invoice_id]) if invoices else []
        holds = await conn.fetch(HOLDS, [invoice_id]) if invoices else []
    return invoices, lines, holds


def _bucket_case(as_of: date) -> str:
    """Bucket bounds become due-date bounds, computed here as the service does."""
    whens = []
    for code, _label, low, high in BUCKETS[:-1]:
        conditions = []
        if low is not None:
            conditions.append(f"due_date <= DATE '{as_of - timedelta(days=low)}'")
        if high is not None:
            conditions.append(f"due_date >= DATE '{as_of - timedelta(days=high)}'")
        whens.append(f"WHEN {' AND '.join(conditions)} THEN '{code}'")
    return f"CASE {' '.join(whens)} ELSE '{BUCKETS[-1][0]}' END"


def aging_sql(as_of: date) -> str:
    """Open and held amount of every invoice open on `as_of` from the dated ledger, aged."""
    return f"""
        SELECT currency, {_bucket_case(as_of)} AS bucket,
               sum(open_minor - held_minor) AS collectible, sum(held_minor) AS held, count(*) AS n
        FROM (
            SELECT i.customer_id, i.currency, i.due_date,
                   i.amount_minor - coalesce(a.minor, 0) AS open_minor,
                   coalesce(h.minor, 0) AS held_minor
            FROM invoices i
            LEFT JOIN (SELECT invoice_id, sum(amount_minor) AS minor FROM allocations
                       WHERE applied_date <= $1 GROUP BY invoice_id) a ON a.invoice_id = i.id
            LEFT JOIN (SELECT invoice_id, sum(delta_minor) AS minor FROM hold_movements
                       WHERE occurred_on <= $1 GROUP BY invoice_id) h ON h.invoice_id = i.id
            WHERE i.invoice_date <= $1 AND (i.closed_date IS NULL OR i.closed_date > $1)
        ) items
        WHERE open_minor > 0
        GROUP BY currency, bucket
    """


async def aging_totals(conn: asyncpg.Connection, as_of: date):
    async with conn.transaction():
        return await conn.fetch(aging_sql(as_of), as_of)
