"""A receivables portfolio, generated and loaded with COPY into the migrated accounts schema.

Shape (deterministic for a seed): every customer has the same number of open invoices, dated over
the 400 days before AS_OF with 14–60 day terms, so every aging bucket is populated; 15 % of open
invoices are partly paid (a payment and its allocation), 2 % carry a dispute hold (with its hold
movement), and 10 % more invoices were fully paid and closed before AS_OF (history the report
must skip). Ids are time-ordered hex like the service's UUIDv7 ids.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import asyncpg

AS_OF = date(2026, 3, 31)
NOW = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)
TERMS = (14, 30, 30, 30, 45, 60)
COUNTRIES = ("DE", "FR", "NL", "US", "GB", "IT", "ES", "PL")
PARTLY_PAID, HELD, CLOSED = 0.15, 0.02, 0.10
CHUNK = 50_000


def _id(kind: int, n: int) -> str:
    return f"{0x019A0000 + kind:08x}{n:024x}"


def customer_id(n: int) -> str:
    return _id(1, n)


@dataclass
class Portfolio:
    customers: int
    open_invoices: int
    rows: dict[str, int] = field(default_factory=dict)  # table → rows loaded
    load_seconds: float = 0.0

    def describe(self) -> dict:
        return {"as_of": AS_OF.isoformat(), "customers": self.customers,
                "open_invoices": self.open_invoices, "rows": self.rows,
                "load_seconds": round(self.load_seconds, 1)}  # fmt: skip


def _customers(count: int, rnd: random.Random):
    for n in range(count):
        cur = "USD" if n % 7 == 0 else "EUR"
        yield (customer_id(n), f"Customer {n:06d}", f"C{n:06d}", COUNTRIES[n % len(COUNTRIES)],
               "Europe/Berlin", cur, rnd.choice(("LOW", "MEDIUM", "MEDIUM", "HIGH")),
               rnd.randrange(10_000, 5_000_000) * 100 if n % 3 else None, cur if n % 3 else None,
               False, n % 97 == 0, n % 31 == 0, 1, NOW, NOW)  # fmt: skip


def _contacts(count: int):
    for n in range(count):
        yield (customer_id(n), 0, f"Contact {n}", f"ap{n}@example.com", "+49 30 1234567",
               "de-DE", "accounts payable")  # fmt: skip


def _ledger(p: Portfolio, rnd: random.Random, start: int, stop: int) -> dict[str, list[tuple]]:
    """Invoices [start, stop) with their payments, allocations, holds and hold movements."""
    out: dict[str, list[tuple]] = {
        t: [] for t in ("invoices", "payments", "allocations", "holds", "hold_movements")
    }
    for n in range(start, stop):
        cust = n % p.customers
        cur = "USD" if cust % 7 == 0 else "EUR"
        invoiced = AS_OF - timedelta(days=rnd.randrange(0, 400))
        due = invoiced + timedelta(days=rnd.choice(TERMS))
        amount = rnd.randrange(5_000, 5_000_000)
        inv = _id(2, n)
        closed = n >= p.open_invoices
        paid, paid_on = (amount if closed else 0), None
        if not closed and rnd.random() < PARTLY_PAID:
            paid = amount * rnd.randrange(10, 90) // 100
        if paid:
            paid_on = invoiced + timedelta(days=rnd.randrange(0, max(1, (AS_OF - invoiced).days)))
            out["payments"].append(
                (_id(3, n), customer_id(cust), cur, paid, 0, paid_on, f"BANK{n}", NOW)
            )
            out["allocations"].append(
                (_id(4, n), inv, "PAYMENT", _id(3, n), paid, paid_on, "", NOW)
            )
        held = 0
        if not closed and rnd.random() < HELD:
            held = (amount - paid) * rnd.randrange(20, 100) // 100
            on = invoiced + timedelta(days=rnd.randrange(0, max(1, (AS_OF - invoiced).days)))
            at = datetime.combine(on, datetime.min.time(), UTC)
            out["holds"].append((_id(5, n), inv, f"disputes/{n}", held, at, at))
            out["hold_movements"].append((_id(6, n), _id(5, n), inv, held, on, at))
        out["invoices"].append(
            (inv, customer_id(cust), f"INV{n:010d}", invoiced, due, cur, amount, amount - paid,
             held, paid_on if closed else None, NOW)
        )  # fmt: skip
    return out


COLUMNS = {
    "customers": ("id", "display_name", "external_ref", "country_code", "time_zone",
                  "currency_code", "risk_class", "credit_limit_minor", "credit_limit_currency",
                  "bankruptcy", "in_litigation", "credit_hold", "version", "created_at",
                  "updated_at"),
    "contacts": ("customer_id", "position", "name", "email", "phone", "language", "role"),
    "invoices": ("id", "customer_id", "external_number", "invoice_date", "due_date", "currency",
                 "amount_minor", "open_minor", "held_minor", "closed_date", "created_at"),
    "payments": ("id", "customer_id", "currency", "amount_minor", "unallocated_minor",
                 "received_date", "reference", "created_at"),
    "allocations": ("id", "invoice_id", "source_kind", "source_id", "amount_minor",
                    "applied_date", "reason_code", "created_at"),
    "holds": ("id", "invoice_id", "dispute", "amount_minor", "created_at", "updated_at"),
    "hold_movements": ("id", "hold_id", "invoice_id", "delta_minor", "occurred_on",
                       "occurred_at"),
}  # fmt: skip


async def load(dsn: str, customers: int, open_invoices: int, seed: int = 7) -> Portfolio:
    """Generates and COPYs the portfolio, then VACUUM ANALYZE (as autovacuum would have)."""
    began = time.perf_counter()
    p = Portfolio(customers, open_invoices)
    rnd = random.Random(seed)
    p.rows = dict.fromkeys(COLUMNS, 0)
    conn = await asyncpg.connect(dsn)

    async def copy(tables: dict[str, list[tuple]]) -> None:
        for table, rows in tables.items():
            await conn.copy_records_to_table(table, records=rows, columns=COLUMNS[table])
            p.rows[table] += len(rows)

    try:
        # the rows are consistent by construction: skip per-row foreign-key triggers while loading
        await conn.execute("SET session_replication_role = replica")
        await copy({"customers": list(_customers(customers, rnd)),
                    "contacts": list(_contacts(customers))})  # fmt: skip
        total = open_invoices + int(open_invoices * CLOSED)
        for start in range(0, total, CHUNK):  # in slices, so the bench process stays small
            await copy(_ledger(p, rnd, start, min(total, start + CHUNK)))
        await conn.execute("SET session_replication_role = DEFAULT")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    p.load_seconds = time.perf_counter() - began
    return p
