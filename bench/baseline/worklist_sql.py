"""The worklist's statements written by hand for asyncpg: what services/accounts/data/
worklist_reads.py builds for one collector (the facts of every assigned customer in one
statement, each source grouped by customer), and the active strategy with its rules. Run without
a transaction, as the service's display reads are; ranked by the same pure domain function."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import asyncpg

from services.accounts.domain.worklist import CustomerFacts, Rule, Strategy

FACTS = """
WITH in_scope AS (SELECT customer_id FROM assignments WHERE collector = $1),
inv AS (
  SELECT i.customer_id, max(i.currency) AS currency, sum(i.open_minor) AS open_minor,
         sum(i.held_minor) AS held_minor,
         sum(CASE WHEN i.due_date < $2 AND i.open_minor > i.held_minor
                  THEN i.open_minor - i.held_minor ELSE 0 END) AS overdue_minor,
         min(CASE WHEN i.due_date < $2 AND i.open_minor > i.held_minor THEN i.due_date END)
           AS oldest_due
  FROM invoices i JOIN customers c ON c.id = i.customer_id
  WHERE i.customer_id IN (SELECT customer_id FROM in_scope) AND i.open_minor > 0
    AND i.currency = coalesce(nullif(c.currency_code, ''), i.currency)
  GROUP BY i.customer_id),
prom AS (
  SELECT customer_id,
         sum(CASE WHEN state = 'OPEN' THEN amount_minor ELSE 0 END) AS promised_minor,
         sum(CASE WHEN state = 'BROKEN' THEN 1 ELSE 0 END) AS broken,
         max(CASE WHEN state = 'OPEN' AND promised_date = $2 THEN 1 ELSE 0 END) AS due_today
  FROM promises WHERE customer_id IN (SELECT customer_id FROM in_scope) GROUP BY customer_id),
disputes AS (
  SELECT i.customer_id, count(DISTINCT h.dispute) AS open_disputes
  FROM holds h JOIN invoices i ON i.id = h.invoice_id
  WHERE i.customer_id IN (SELECT customer_id FROM in_scope) AND h.amount_minor > 0
  GROUP BY i.customer_id),
contacted AS (
  SELECT customer_id, max(occurred_at) AS last_contact_at
  FROM interactions WHERE customer_id IN (SELECT customer_id FROM in_scope) GROUP BY customer_id)
SELECT a.customer_id, c.display_name, a.collector,
       coalesce(nullif(c.currency_code, ''), inv.currency, '') AS currency,
       coalesce(inv.open_minor, 0) AS open_minor, coalesce(inv.held_minor, 0) AS held_minor,
       coalesce(prom.promised_minor, 0) AS promised_minor,
       coalesce(inv.overdue_minor, 0) AS overdue_minor, inv.oldest_due,
       coalesce(prom.broken, 0) AS broken, coalesce(prom.due_today, 0) AS due_today,
       contacted.last_contact_at,
       (SELECT l.call_back_at FROM interactions l WHERE l.customer_id = a.customer_id
        ORDER BY l.occurred_at DESC, l.created_at DESC LIMIT 1) AS call_back_at,
       coalesce(disputes.open_disputes, 0) AS open_disputes,
       c.credit_hold, c.bankruptcy, c.in_litigation, c.risk_class
FROM assignments a JOIN customers c ON c.id = a.customer_id
LEFT JOIN inv ON inv.customer_id = a.customer_id
LEFT JOIN prom ON prom.customer_id = a.customer_id
LEFT JOIN contacted ON contacted.customer_id = a.customer_id
LEFT JOIN disputes ON disputes.customer_id = a.customer_id
WHERE a.collector = $1
ORDER BY a.customer_id
"""
ACTIVE_STRATEGY = "SELECT version FROM worklist_strategies WHERE active IS true"
RULES = (
    "SELECT code, label, fact, min_value, max_value, points FROM worklist_rules "
    "WHERE strategy_version = $1 ORDER BY position"
)


async def facts(conn: asyncpg.Connection, collector: str, today: date) -> list[CustomerFacts]:
    return [
        CustomerFacts(
            customer_id=r["customer_id"],
            display_name=r["display_name"],
            collector=r["collector"],
            currency=r["currency"],
            open_minor=int(r["open_minor"]),
            held_minor=int(r["held_minor"]),
            promised_minor=int(r["promised_minor"]),
            overdue_minor=int(r["overdue_minor"]),
            oldest_due=r["oldest_due"],
            broken_promises=int(r["broken"]),
            promise_due_today=bool(r["due_today"]),
            last_contact_at=r["last_contact_at"],
            call_back_at=r["call_back_at"],
            open_disputes=int(r["open_disputes"]),
            credit_hold=r["credit_hold"],
            bankruptcy=r["bankruptcy"],
            in_litigation=r["in_litigation"],
            risk_class=r["risk_class"],
        )
        for r in await conn.fetch(FACTS, collector, today)
    ]


async def strategy(conn: asyncpg.Connection) -> Strategy:
    version = await conn.fetchval(ACTIVE_STRATEGY)
    rules = tuple(
        Rule(
            r["code"],
            r["label"],
            r["fact"],
            Decimal(r["min_value"]) if r["min_value"] else None,
            Decimal(r["max_value"]) if r["max_value"] else None,
            r["points"],
        )
        for r in await conn.fetch(RULES, version)
    )
    return Strategy(version, rules)
