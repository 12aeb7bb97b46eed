"""The SQL of the accounts reports (services/accounts/data/report_reads.py), written by hand for
asyncpg: the same open-items roll-back, bucket cut-offs and grouping, run without a transaction as
the service's display reads are. The bench's floor for DSO, CEI and aging by collector."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

# Open on $1: dated by then, not closed by then, amounts rolled back by the ledger dated after.
OPEN_ITEMS = """
    SELECT i.customer_id, i.currency, i.due_date,
           i.open_minor + coalesce(a.minor, 0) AS open_minor,
           i.held_minor - coalesce(h.minor, 0) AS held_minor,
           coalesce(s.collector, '') AS collector, coalesce(s.team, '') AS team
    FROM invoices i
    LEFT JOIN (SELECT invoice_id, CAST(sum(amount_minor) AS BIGINT) AS minor
               FROM allocations WHERE applied_date > $1 GROUP BY invoice_id) a
           ON a.invoice_id = i.id
    LEFT JOIN (SELECT invoice_id, CAST(sum(delta_minor) AS BIGINT) AS minor
               FROM hold_movements WHERE occurred_on > $1 GROUP BY invoice_id) h
           ON h.invoice_id = i.id
    LEFT JOIN assignments s ON s.customer_id = i.customer_id
    WHERE i.invoice_date <= $1 AND (i.closed_date IS NULL OR i.closed_date > $1)
      AND i.open_minor + coalesce(a.minor, 0) > 0
"""
AR_TOTALS = f"""
    SELECT currency, CAST(sum(open_minor) AS BIGINT),
           CAST(sum(CASE WHEN due_date >= $1 THEN open_minor ELSE 0 END) AS BIGINT),
           CAST(sum(CASE WHEN due_date < $2 THEN open_minor ELSE 0 END) AS BIGINT)
    FROM ({OPEN_ITEMS}) items GROUP BY currency ORDER BY currency
"""
DAILY_SALES = """
    SELECT currency, invoice_date, CAST(sum(amount_minor) AS BIGINT) FROM invoices
    WHERE invoice_date >= $1 AND invoice_date <= $2
    GROUP BY currency, invoice_date ORDER BY currency, invoice_date
"""
BOUNDS = (0, 30, 60, 90, 120)
AGING_BY_COLLECTOR = f"""
    SELECT collector, team, currency, bucket, CAST(sum(open_minor) AS BIGINT),
           CAST(sum(held_minor) AS BIGINT), count(*)
    FROM (SELECT items.*, {" + ".join(f"CASE WHEN due_date < ${n + 2} THEN 1 ELSE 0 END"
                                       for n in range(len(BOUNDS)))} AS bucket
          FROM ({OPEN_ITEMS}) items JOIN customers c ON c.id = items.customer_id) aged
    GROUP BY collector, team, currency, bucket ORDER BY collector, team, currency, bucket
"""  # fmt: skip


async def ar_totals(conn: asyncpg.Connection, on: date):
    return await conn.fetch(AR_TOTALS, on, on - timedelta(days=90))


async def dso(conn: asyncpg.Connection, start: date, end: date, history_start: date):
    return await ar_totals(conn, end), await conn.fetch(DAILY_SALES, history_start, end)


async def cei(conn: asyncpg.Connection, start: date, end: date):
    opening = await ar_totals(conn, start - timedelta(days=1))
    return opening, await ar_totals(conn, end), await conn.fetch(DAILY_SALES, start, end)


async def aging_by_collector(conn: asyncpg.Connection, on: date):
    return await conn.fetch(AGING_BY_COLLECTOR, on, *(on - timedelta(days=b) for b in BOUNDS))
