"""The least a first dunning run must do, with asyncpg and no framework: per batch of 500
customers one transaction that claims them (FOR UPDATE SKIP LOCKED), reads their open invoices,
picks per customer × currency the highest level of the seed ladder an invoice (of those due
by the first level's date) reached, and
writes the notices, their lines (the invoices at or past the first level) and one decision per
customer × currency, each table in one INSERT … SELECT unnest. No promises, pacing, previous
notices, unallocated cash, flags, credit holds, escalations or Legal: a floor, not a rival."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from services.accounts.domain.ladder import DEFAULT_LADDER

CLAIM = """
SELECT id FROM customers WHERE id > $1 AND (dunned_on IS NULL OR dunned_on < $2)
ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED
"""
OPEN = """
SELECT id, customer_id, currency, external_number, due_date, open_minor, held_minor
FROM invoices WHERE customer_id = ANY($1::varchar[]) AND open_minor > 0 AND due_date <= $2
ORDER BY customer_id, currency, due_date, id
"""
NOTICES = """
INSERT INTO dunning_notices (id, key, customer_id, currency, level, level_code, business_date,
  ladder_id, ladder_version, channel, template_id, total_minor, unallocated_cash_minor, state,
  attempts, last_error, available_at, created_at, sent_at)
SELECT id, key, customer_id, currency, level, code, $5, 'default', 1, 'EMAIL', 'friendly', total,
  0, 'QUEUED', 0, '', $6, $6, NULL
FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $7::int[],
            $8::varchar[], $9::bigint[]) AS t(id, key, customer_id, currency, level, code, total)
"""
LINES = """
INSERT INTO dunning_notice_lines (notice_id, invoice_id, position, number, due_date, open_minor,
  held_minor, promised_minor, in_legal_minor, claimed_paid_minor, due_now_minor)
SELECT n, i, p, num, d, o, h, 0, 0, 0, o - h
FROM unnest($1::varchar[], $2::varchar[], $3::int[], $4::varchar[], $5::date[], $6::bigint[],
            $7::bigint[]) AS t(n, i, p, num, d, o, h)
"""
DECISIONS = """
INSERT INTO dunning_decisions (business_date, customer_id, currency, outcome, detail, notice_id,
  decided_at)
SELECT $1, c, k, o, '', n, $2
FROM unnest($3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[]) AS t(c, k, o, n)
"""
DUNNED = "UPDATE customers SET dunned_on = $1 WHERE id = ANY($2::varchar[])"


def reset_for(conn, statements):
    async def reset() -> None:
        for statement in statements:
            await conn.execute(statement)

    return reset


async def run(conn, day: date, batch: int = 500) -> int:
    """Evaluates every customer not yet evaluated on `day`; returns how many."""
    levels = DEFAULT_LADDER.levels
    now, after, evaluated = datetime.now(UTC), "", 0
    reach_by = day - timedelta(days=levels[0].offset_days)
    while True:
        async with conn.transaction():
            ids = [r[0] for r in await conn.fetch(CLAIM, after, day, batch)]
            if not ids:
                return evaluated
            after, evaluated = ids[-1], evaluated + len(ids)
            books = defaultdict(list)
            for row in await conn.fetch(OPEN, ids, reach_by):
                books[(row[1], row[2])].append(row)
            notices: list[list] = [[] for _ in range(7)]
            lines: list[list] = [[] for _ in range(7)]
            decisions: list[list] = [[] for _ in range(4)]
            for (customer, currency), invoices in books.items():
                chased = [r for r in invoices if r[5] > r[6]]
                level = max(
                    (lv for r in chased for lv in levels if (day - r[4]).days >= lv.offset_days),
                    key=lambda lv: lv.number,
                    default=None,
                )
                total = sum(r[5] - r[6] for r in chased)
                notice_id = None
                if level is not None and total >= level.tolerance_for(currency):
                    notice_id = uuid.uuid4().hex
                    key = f"dun.{customer}.{currency}.{level.number}.{day:%Y%m%d}"
                    _append(notices, notice_id, key, customer, currency, level.number,
                            level.code, total)  # fmt: skip
                    for position, r in enumerate(chased):
                        _append(lines, notice_id, r[0], position, r[3], r[4], r[5], r[6])
                outcome = "NOTICE" if notice_id else "NOTHING_DUNNABLE"
                _append(decisions, customer, currency, outcome, notice_id)
            if notices[0]:
                await conn.execute(NOTICES, *notices[:4], day, now, *notices[4:])
                await conn.execute(LINES, *lines)
            await conn.execute(DECISIONS, day, now, *decisions)
            await conn.execute(DUNNED, day, ids)


def _append(columns: list[list], *values) -> None:
    """One row onto column arrays (what unnest takes)."""
    for column, value in zip(columns, values, strict=True):
        column.append(value)
