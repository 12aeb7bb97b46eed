"""The external auditor: reads each service's own database after the run (a test harness may;
no service does) and fills a checks.Audit. Column names are those of the migrations."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import asyncpg

from settle.escalation.v1 import escalation_pb2
from tools.chaos.checks import Audit, Clock, Item
from tools.chaos.system import SERVICES, System

RAISE_METHOD = "/settle.escalation.v1.EscalationService/RaiseEscalation"
# Resources the workload names after their request_id, so that doubles can be counted.
MARKED = {
    "customer": ("accounts", "SELECT display_name AS rid, count(*) AS n FROM customers GROUP BY 1"),
    "invoice": (
        "accounts",
        "SELECT external_number AS rid, count(*) AS n FROM invoices GROUP BY 1",
    ),
    "dispute": ("disputes", "SELECT title AS rid, count(*) AS n FROM disputes GROUP BY 1"),
}


async def outbox_state(system: System) -> dict[str, tuple[int, int, int]]:
    """Per service: (pending, parked, delivered) events."""
    state = {}
    for service in SERVICES:
        conn = await asyncpg.connect(system.dsn(service))
        try:
            row = await conn.fetchrow(
                "SELECT count(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL) AS p,"
                " count(*) FILTER (WHERE dead_at IS NOT NULL) AS d,"
                " count(*) FILTER (WHERE delivered_at IS NOT NULL) AS ok FROM outbox_events"
            )
        finally:
            await conn.close()
        state[service] = (row["p"], row["d"], row["ok"])
    return state


async def latest_due(system: System) -> datetime | None:
    """When the last milestone of a running clock falls due (none: None)."""
    conn = await asyncpg.connect(system.dsn("disputes"))
    try:
        return await conn.fetchval(
            "SELECT max(m.due_at) FROM clock_milestones m JOIN sla_clocks c ON c.id = m.clock_id"
            " WHERE m.fired_at IS NULL AND c.running_since IS NOT NULL"
        )
    finally:
        await conn.close()


async def read(system: System, acknowledged: dict, server_errors: Counter) -> Audit:
    audit = Audit(acknowledged=acknowledged, server_errors=server_errors)
    audit.read_at = datetime.now(UTC)
    conns = {s: await asyncpg.connect(system.dsn(s)) for s in SERVICES}
    try:
        for kind, (service, sql) in MARKED.items():
            audit.stored[kind] = Counter(
                {r["rid"]: r["n"] for r in await conns[service].fetch(sql)}
            )
        await _disputes(conns["disputes"], audit)
        await _accounts(conns["accounts"], audit)
        await _escalation(conns["escalation"], audit)
    finally:
        for conn in conns.values():
            await conn.close()
    for service, (pending, parked, delivered) in (await outbox_state(system)).items():
        audit.pending[service], audit.parked[service] = pending, parked
        audit.delivered[service] = delivered
    return audit


async def _disputes(conn: asyncpg.Connection, audit: Audit) -> None:
    for r in await conn.fetch(
        "SELECT i.dispute_id, i.invoice_id, d.status, i.still_minor, i.credited_minor,"
        " i.written_off_minor FROM dispute_items i JOIN disputes d ON d.id = i.dispute_id"
    ):
        audit.items.append(Item(f"disputes/{r[0]}", r[1], r[2], r[3], r[4], r[5]))
    for r in await conn.fetch(
        "SELECT id, dispute_id, kind, cycle, target_us, warning_percents, spent_before_us,"
        " running_since FROM sla_clocks WHERE target_unit = 'CALENDAR_SECONDS'"
    ):
        running = r["running_since"] is not None
        spent = r["spent_before_us"]
        if running:
            spent += int((audit.read_at - r["running_since"]).total_seconds() * 1_000_000)
        percents = tuple(int(p) for p in r["warning_percents"].split(",") if p.strip())
        owner = f"disputes/{r['dispute_id']}"
        audit.clocks.append(
            Clock(r["id"], owner, r["kind"], r["cycle"], r["target_us"], percents, spent, running)
        )
    for r in await conn.fetch(
        "SELECT dispute_id, details FROM dispute_history"
        " WHERE kind IN ('CLOCK_WARNED', 'CLOCK_BREACHED')"
    ):
        d = json.loads(r["details"])
        audit.firings[(f"disputes/{r[0]}", d["clock"], int(d["cycle"]), d["threshold"])] += 1
        audit.lateness_ms.append(_duration_ms(d.get("lateness", "0s")))
    for r in await conn.fetch("SELECT payload FROM outbox_events WHERE method = $1", RAISE_METHOD):
        request = escalation_pb2.RaiseEscalationRequest.FromString(r["payload"])
        if request.trigger_event_id:
            audit.escalations_sent[request.trigger_event_id] += 1


def _duration_ms(text: str) -> int:
    """History durations are protobuf Duration JSON ("1.300s", "-0.001s"), read here from the
    public format rather than through the service's code: the auditor stays independent."""
    return round(float(text.removesuffix("s")) * 1000)


async def _accounts(conn: asyncpg.Connection, audit: Audit) -> None:
    for r in await conn.fetch("SELECT dispute, invoice_id, amount_minor FROM holds"):
        audit.holds[(r[0], r[1])] = audit.holds.get((r[0], r[1]), 0) + r[2]
    for r in await conn.fetch(
        "SELECT n.dispute, a.invoice_id, sum(a.amount_minor) FROM allocations a"
        " JOIN credit_notes n ON a.source_kind = 'CREDIT_NOTE' AND n.id = a.source_id"
        " WHERE n.dispute <> '' GROUP BY 1, 2"
    ):
        audit.credits[(r[0], r[1])] = r[2]
    for r in await conn.fetch(
        "SELECT source_id, invoice_id, sum(amount_minor) FROM allocations"
        " WHERE source_kind = 'WRITE_OFF' GROUP BY 1, 2"
    ):
        audit.write_offs[(r[0], r[1])] = r[2]


async def _escalation(conn: asyncpg.Connection, audit: Audit) -> None:
    for r in await conn.fetch(
        "SELECT details FROM escalation_history"
        " WHERE action IN ('RAISED', 'RAISED_AGAIN', 'SEVERITY_RAISED')"
    ):
        trigger = json.loads(r["details"]).get("trigger_event_id", "")
        if trigger:
            audit.escalations_recorded[trigger] += 1
