"""The SQL the accounts service runs for the benchmarked calls, written by hand for asyncpg: the
same statements (same tables, predicates, joins, ordering and follow-up loads) without SQLAlchemy.

Reads run as the service's do, without a transaction (its `Database.reading_connection()`); the
aging report runs in one."""

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
# What the service's read statements (services/accounts/data/reads.py) say: children joined to their
# parent, a list's page in a subquery so LIMIT counts parents, and holds asked for only for the
# invoices that hold something.
CUSTOMER = (
    f"SELECT {CUSTOMER_COLUMNS}, ct.position, ct.name, ct.email, ct.phone, ct.language, ct.role "
    "FROM customers LEFT JOIN contacts ct ON ct.customer_id = customers.id "
    "WHERE customers.id = $1 ORDER BY ct.position"
)
LINE_COLUMNS = (
    "l.line_number, l.description, l.quantity, l.amount_minor AS line_amount_minor, l.kind"
)
HOLDS = (
    "SELECT id, invoice_id, dispute, amount_minor, created_at, updated_at FROM holds "
    "WHERE invoice_id = ANY($1::varchar[]) ORDER BY created_at"
)
OPEN_INVOICES_OF_CUSTOMER = (
    f"SELECT p.*, {LINE_COLUMNS} FROM (SELECT {INVOICE_COLUMNS} FROM invoices "
    "WHERE customer_id = $1 AND CASE WHEN open_minor > 0 THEN 'OPEN' ELSE 'CLOSED' END = 'OPEN' "
    "ORDER BY due_date, id LIMIT $2 OFFSET 0) p "
    "LEFT JOIN invoice_lines l ON l.invoice_id = p.id ORDER BY p.due_date, p.id, l.line_number"
)
INVOICE = (
    f"SELECT invoices.*, {LINE_COLUMNS} FROM invoices "
    "LEFT JOIN invoice_lines l ON l.invoice_id = invoices.id "
    "WHERE invoices.id = $1 ORDER BY l.line_number"
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
    """The customer and its contacts: one statement, so no transaction (as the service)."""
    rows = await conn.fetch(CUSTOMER, customer_id)
    if not rows:
        return None, []
    return rows[0], [r for r in rows if r["position"] is not None]


async def _with_holds(conn: asyncpg.Connection, rows):
    """Joined rows → (invoices, lines, holds); holds only of the invoices that hold something."""
    invoices = [r for i, r in enumerate(rows) if i == 0 or rows[i - 1]["id"] != r["id"]]
    lines = [r for r in rows if r["line_number"] is not None]
    held = [r["id"] for r in invoices if r["held_minor"]]
    return invoices, lines, await conn.fetch(HOLDS, held) if held else []


async def list_open_invoices(conn: asyncpg.Connection, customer_id: str, page_size: int):
    return await _with_holds(
        conn, await conn.fetch(OPEN_INVOICES_OF_CUSTOMER, customer_id, page_size)
    )


async def get_invoice(conn: asyncpg.Connection, invoice_id: str):
    return await _with_holds(conn, await conn.fetch(INVOICE, invoice_id))


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
    """Open and held amount of every invoice open on `as_of`, rolled back from the maintained
    balances by what the ledger dated after it (services/accounts/data/aging_sql.py), summed
    per due date, then aged."""
    return f"""
        SELECT currency, {_bucket_case(as_of)} AS bucket,
               sum(collectible) AS collectible, sum(held) AS held,
               CAST(sum(n) AS BIGINT) AS n
        FROM (
            SELECT currency, due_date, sum(open_minor - held_minor) AS collectible,
                   sum(held_minor) AS held, count(*) AS n
            FROM (
                SELECT i.currency, i.due_date,
                       i.open_minor + coalesce(a.minor, 0) AS open_minor,
                       i.held_minor - coalesce(h.minor, 0) AS held_minor
                FROM invoices i
                LEFT JOIN (SELECT invoice_id, CAST(sum(amount_minor) AS BIGINT) AS minor
                           FROM allocations WHERE applied_date > $1 GROUP BY invoice_id) a
                       ON a.invoice_id = i.id
                LEFT JOIN (SELECT invoice_id, CAST(sum(delta_minor) AS BIGINT) AS minor
                           FROM hold_movements WHERE occurred_on > $1 GROUP BY invoice_id) h
                       ON h.invoice_id = i.id
                WHERE i.invoice_date <= $1 AND (i.closed_date IS NULL OR i.closed_date > $1)
            ) items
            WHERE open_minor > 0
            GROUP BY currency, due_date
        ) cells
        GROUP BY currency, bucket
    """


async def aging_totals(conn: asyncpg.Connection, as_of: date):
    async with conn.transaction():
        return await conn.fetch(aging_sql(as_of), as_of)
