"""The worklist's statements written by hand for asyncpg: what services/accounts/data/
worklist_reads.py builds for one collector on PostgreSQL (each assigned customer's row and facts
summary looked up by key, what depends on the day derived from its dated rows), and the active
strategy with its rules. Run without a transaction, as the service's display reads are; ranked by
the same pure domain function. It reads what Settle reads: the summary data/customer_facts.py
keeps with every write (the bench builds it once after loading the portfolio, as migration 0008's
backfill does)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import asyncpg

from services.accounts.domain.worklist import CustomerFacts, Rule, Strategy

FACTS = """
WITH ahead AS (
  SELECT customer_id, sum(due_minor) AS not_due_minor,
         max(CASE WHEN day = $2 AND open_promises > 0 THEN 1 ELSE 0 END) AS due_today
  FROM customer_facts_ahead
  WHERE customer_id IN (SELECT customer_id FROM assignments WHERE collector = $1) AND day >= $2
  GROUP BY customer_id)
SELECT a.customer_id, c.display_name, a.collector,
       coalesce(nullif(c.currency_code, ''), nullif(f.currency, ''), '') AS currency,
       coalesce(f.open_minor, 0) AS open_minor, coalesce(f.held_minor, 0) AS held_minor,
       coalesce(f.promised_minor, 0) AS promised_minor,
       coalesce(f.collectible_minor, 0) - coalesce(ahead.not_due_minor, 0) AS overdue_minor,
       CASE WHEN f.oldest_due < $2 THEN f.oldest_due END AS oldest_due,
       coalesce(f.broken_promises, 0) AS broken, coalesce(ahead.due_today, 0) AS due_today,
       f.last_contact_at, f.call_back_at, coalesce(f.open_disputes, 0) AS open_disputes,
       c.credit_hold, c.bankruptcy, c.in_litigation, c.risk_class, f.phone_task_at
FROM assignments a
JOIN LATERAL (SELECT * FROM customers WHERE id = a.customer_id OFFSET 0) c ON true
LEFT JOIN LATERAL (SELECT * FROM customer_facts WHERE customer_id = a.customer_id OFFSET 0) f
  ON true
LEFT JOIN ahead ON ahead.customer_id = a.customer_id
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
            phone_task_at=r["phone_task_at"],
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
