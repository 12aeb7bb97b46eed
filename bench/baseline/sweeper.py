"""The sweeper's SQL on the bare stack: claim due milestones (FOR UPDATE SKIP LOCKED), lock their
cases (SKIP LOCKED), read items, clocks and calendars, then fire each one — milestone, clock flags,
case SLA state, history row, escalation event in the outbox — in one transaction per batch, as
services/disputes/sweeper.py does, written directly for asyncpg."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import asyncpg

from settle.common.v1 import common_pb2
from settle.escalation.v1 import escalation_pb2

BATCH = 200
METHOD = "/settle.escalation.v1.EscalationService/RaiseEscalation"
CLAIM = """
    SELECT id, clock_id, dispute_id, name, due_at FROM clock_milestones
    WHERE fired_at IS NULL AND due_at <= $1 ORDER BY due_at, id LIMIT $2
    FOR UPDATE SKIP LOCKED"""
LOCK_CASES = """
    SELECT id, title, reason_code, priority, currency, customer_id, customer_bankruptcy,
           customer_in_litigation, version
    FROM disputes WHERE id = ANY($1::varchar[]) ORDER BY id FOR UPDATE SKIP LOCKED"""
ITEMS = "SELECT dispute_id, still_minor FROM dispute_items WHERE dispute_id = ANY($1::varchar[])"
CLOCKS = "SELECT id, kind, fired, policy_id, calendar_id FROM sla_clocks WHERE dispute_id = ANY($1::varchar[])"  # noqa: E501
CALENDARS = "SELECT * FROM calendars WHERE id = ANY($1::varchar[])"
FIRE = "UPDATE clock_milestones SET fired_at = $2 WHERE id = $1"
FLAG = "UPDATE sla_clocks SET fired = $2 WHERE id = $1"
STATE = "UPDATE disputes SET sla_state = $2 WHERE id = $1"
HISTORY = """INSERT INTO dispute_history (dispute_id, kind, actor, occurred_at, version, comment,
    details) VALUES ($1, $2, 'rule:sla', $3, $4, '', $5)"""
OUTBOX = """INSERT INTO outbox_events (id, destination, method, payload, subject, created_at,
    available_at, attempts) VALUES ($1, 'escalation', $2, $3, $4, $5, $5, 0)"""


def _event(case, milestone, still: int) -> bytes:
    breach = milestone["name"] == "BREACH"
    request = escalation_pb2.RaiseEscalationRequest(
        subject=f"disputes/{case['id']}",
        reason_code="SLA_BREACH" if breach else "SLA_WARNING",
        summary=f"clock {milestone['name'].lower()} on {case['title']}",
        raised_by="rule:sla-breach" if breach else "rule:sla-warning",
        trigger_event_id=milestone["id"],
        attributes={"dispute_reason": case["reason_code"], "priority": case["priority"],
                    "customer": f"customers/{case['customer_id']}"},
        amount_at_stake=common_pb2.Money(
            currency_code=case["currency"], amount=f"{still / 100:.2f}"
        ),
    )  # fmt: skip
    request.request_id = uuid.uuid4().hex
    return request.SerializeToString()


async def _pass(conn: asyncpg.Connection) -> int:
    now = datetime.now(UTC)
    async with conn.transaction():
        due = await conn.fetch(CLAIM, now, BATCH)
        if not due:
            return 0
        ids = sorted({m["dispute_id"] for m in due})
        cases = {r["id"]: r for r in await conn.fetch(LOCK_CASES, ids)}
        still: dict[str, int] = {}
        for item in await conn.fetch(ITEMS, ids):
            still[item["dispute_id"]] = still.get(item["dispute_id"], 0) + item["still_minor"]
        clocks = {r["id"]: r for r in await conn.fetch(CLOCKS, ids)}
        await conn.fetch(CALENDARS, list({c["calendar_id"] for c in clocks.values()}))
        fire, flag, state, history, outbox = [], [], [], [], []
        for m in due:
            case = cases.get(m["dispute_id"])
            if case is None:
                continue  # someone else holds the case: next pass
            clock = clocks[m["clock_id"]]
            breach = m["name"] == "BREACH"
            fire.append((m["id"], now))
            flag.append((clock["id"], ",".join(filter(None, [clock["fired"], m["name"]]))))
            state.append((case["id"], "BREACHED" if breach else "WARNED"))
            details = {
                "clock": clock["kind"], "threshold": m["name"], "policy": clock["policy_id"],
                "due_time": m["due_at"].isoformat(), "fired_time": now.isoformat(),
            }  # fmt: skip
            history.append((
                case["id"], "CLOCK_BREACHED" if breach else "CLOCK_WARNED", now, case["version"],
                json.dumps(details, sort_keys=True),
            ))  # fmt: skip
            payload = _event(case, m, still.get(case["id"], 0))
            outbox.append((uuid.uuid4().hex, METHOD, payload, f"disputes/{case['id']}", now))
        for sql, rows in ((FIRE, fire), (FLAG, flag), (STATE, state), (HISTORY, history),
                          (OUTBOX, outbox)):  # fmt: skip
            if rows:
                await conn.executemany(sql, rows)
    return len(fire)


async def run(dsn: str, stop: asyncio.Event, idle_s: float = 0.02) -> int:
    """Fires due milestones until `stop` is set; returns how many it fired."""
    conn = await asyncpg.connect(dsn)
    fired = 0
    try:
        while not stop.is_set():
            done = await _pass(conn)
            fired += done
            if not done:
                await asyncio.sleep(idle_s)
    finally:
        await conn.close()
    return fired
