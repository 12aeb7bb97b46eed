"""The sweeper's SQL on the bare stack: claim due milestones (FOR UPDATE SKIP LOCKED), lock their
cases (SKIP LOCKED), read what their items still dispute, their clocks (with the calendars'
versions: calendars are built once per version, so not re-read), the owning teams of their root
causes and which milestones their policies escalate, then fire the batch with one statement per
table — milestones, clocks' fired flags, cases' SLA state (where it changes), history rows,
escalation events in the outbox for the milestones their policy escalates (by default the breach,
URGENT) — in one transaction per batch, as services/disputes/service/sla_firing.py and
data/sweep.py do, written directly for asyncpg. Beside it, as the service's outbox relay runs
beside its sweeper, escalation_bare.py does what the escalation of those events costs."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import asyncpg

from bench.baseline.escalation_bare import BareEscalation
from settle.common.v1 import common_pb2
from settle.escalation.v1 import escalation_pb2

BATCH = 200
METHOD = "/settle.escalation.v1.EscalationService/RaiseEscalation"
CLAIM = """
    SELECT id, clock_id, dispute_id, name, due_at FROM clock_milestones
    WHERE fired_at IS NULL AND due_at <= $1 ORDER BY due_at, id LIMIT $2
    FOR UPDATE SKIP LOCKED"""
LOCK_CASES = """
    SELECT id, title, reason_code, root_cause_code, priority, currency, customer_id,
           customer_bankruptcy, customer_in_litigation, version, origin_traceparent, sla_state
    FROM disputes WHERE id = ANY($1::varchar[]) ORDER BY id FOR UPDATE SKIP LOCKED"""
STILL = """SELECT dispute_id, sum(still_minor) AS still FROM dispute_items
    WHERE dispute_id = ANY($1::varchar[]) GROUP BY dispute_id"""
CLOCKS = """SELECT sla_clocks.*, calendars.version AS calendar_version FROM sla_clocks
    LEFT OUTER JOIN calendars ON calendars.id = sla_clocks.calendar_id
    WHERE sla_clocks.dispute_id = ANY($1::varchar[]) ORDER BY sla_clocks.id"""
TEAMS = "SELECT code, owning_team FROM root_causes WHERE code = ANY($1::varchar[])"
ESCALATING = "SELECT id, escalating_milestones FROM sla_policies WHERE id = ANY($1::varchar[])"
DEFAULT_ESCALATING = {"BREACH"}
FIRE = "UPDATE clock_milestones SET fired_at = $2 WHERE id = ANY($1::varchar[])"
FLAG = "UPDATE sla_clocks SET fired = $2 WHERE id = $1"
STATE = "UPDATE disputes SET sla_state = $2 WHERE id = $1"
HISTORY = """INSERT INTO dispute_history (dispute_id, kind, actor, occurred_at, version,
    from_status, to_status, comment, details, traceparent)
    VALUES ($1, $2, 'rule:sla', $3, $4, NULL, NULL, '', $5, NULL)"""
OUTBOX = """INSERT INTO outbox_events (id, destination, method, payload, subject, traceparent,
    created_at, available_at, attempts, priority)
    VALUES ($1, 'escalation', $2, $3, $4, NULL, $5, $5, 0, $6)"""


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
        cases = {
            r["id"]: r for r in await conn.fetch(LOCK_CASES, sorted({m["dispute_id"] for m in due}))
        }
        ids = sorted(cases)
        still = {r["dispute_id"]: r["still"] for r in await conn.fetch(STILL, ids)}
        clocks = {r["id"]: r for r in await conn.fetch(CLOCKS, ids)}
        causes = [c["root_cause_code"] for c in cases.values() if c["root_cause_code"]]
        if causes:
            await conn.fetch(TEAMS, sorted(set(causes)))
        policies = sorted({c["policy_id"] for c in clocks.values()})
        escalating = {r["id"]: set(filter(None, r["escalating_milestones"].split(",")))
                      for r in await conn.fetch(ESCALATING, policies)}  # fmt: skip
        fire, flags, states, history, outbox = [], {}, {}, [], []
        for m in due:
            case = cases.get(m["dispute_id"])
            if case is None:
                continue  # someone else holds the case: next pass
            clock = clocks[m["clock_id"]]
            breach = m["name"] == "BREACH"
            fire.append(m["id"])
            flags[clock["id"]] = ",".join(
                filter(None, [flags.get(clock["id"], clock["fired"]), m["name"]])
            )
            was = states.get(case["id"], case["sla_state"])
            state = "BREACHED" if breach or was == "BREACHED" else "WARNED"
            if state != case["sla_state"]:
                states[case["id"]] = state
            details = {
                "clock": clock["kind"], "threshold": m["name"], "policy": clock["policy_id"],
                "due_time": m["due_at"].isoformat(), "fired_time": now.isoformat(),
            }  # fmt: skip
            history.append((
                case["id"], "CLOCK_BREACHED" if breach else "CLOCK_WARNED", now, case["version"],
                json.dumps(details, sort_keys=True),
            ))  # fmt: skip
            if m["name"] in escalating.get(clock["policy_id"], DEFAULT_ESCALATING):
                payload = _event(case, m, still.get(case["id"], 0))
                outbox.append((uuid.uuid4().hex, METHOD, payload, f"disputes/{case['id']}", now,
                               0 if breach else 1))  # fmt: skip
        if not fire:
            return 0
        await conn.execute(FIRE, fire, now)
        await conn.executemany(FLAG, sorted(flags.items()))
        if states:
            await conn.executemany(STATE, sorted(states.items()))
        await conn.executemany(HISTORY, history)
        if outbox:
            await conn.executemany(OUTBOX, outbox)
    return len(fire)


async def run(dsn: str, escalation_dsn: str, stop: asyncio.Event, idle_s: float = 0.02) -> int:
    """Fires due milestones until `stop` is set, the escalation work of their events alongside on
    connections of its own (escalation_bare.py); returns how many it fired."""
    conn = await asyncpg.connect(dsn)
    relay = BareEscalation(await asyncpg.connect(dsn), await asyncpg.connect(escalation_dsn))
    await relay.load_reference()
    escalating = asyncio.create_task(_relay(relay, stop, idle_s))
    fired = 0
    try:
        while not stop.is_set():
            done = await _pass(conn)
            fired += done
            if not done:
                await asyncio.sleep(idle_s)
    finally:
        await escalating
        await asyncio.gather(conn.close(), relay.d.close(), relay.e.close())
    return fired


async def _relay(relay: BareEscalation, stop: asyncio.Event, idle_s: float) -> None:
    while not stop.is_set():
        if not await relay.pass_once():
            await asyncio.sleep(idle_s)
