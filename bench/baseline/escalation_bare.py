"""The escalation work of escalating firings (breaches, by default) on the bare stack: what the
disputes outbox relay, EscalationService.RaiseEscalations and the RecordEscalation coming back do
to the databases, as set-based asyncpg statements, one pass per leased batch:

1. disputes: lease the pending events (the relay's SELECT … FOR UPDATE SKIP LOCKED and UPDATE);
2. escalation, one transaction: the request ids already used, the open escalations of the
   (subject, team) pairs (locked), then one INSERT per table — escalations, response clocks,
   history, idempotency keys, the RecordEscalation events, the feed's events after reserving
   their sequences — and the live subscriptions of the teams;
3. disputes: the events marked delivered;
4. escalation → disputes: lease the RecordEscalation events, then in disputes one transaction —
   their idempotency keys, the cases locked, the teams they already have, the new team rows and
   the ESCALATION_RECORDED history entries — and mark them delivered.

Routing is the seeded rule for the dispute reason (PRICING → SALES, QUALITY → TEAM_LEAD) read
once, as the service keeps its rules cached; the response target is the team's OLA for the
severity, also read once. Business-hours response clocks are counted in calendar minutes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from settle.disputes.v1 import disputes_pb2
from settle.escalation.v1 import escalation_pb2

LEASE = """
    SELECT id, method, payload, subject FROM outbox_events
    WHERE delivered_at IS NULL AND dead_at IS NULL AND available_at <= $1
    ORDER BY priority, available_at, id LIMIT $2 FOR UPDATE SKIP LOCKED"""
LEASED = "UPDATE outbox_events SET available_at = $2, attempts = attempts + 1 WHERE id = ANY($1)"
DELIVERED = (
    "UPDATE outbox_events SET delivered_at = $2, last_error = NULL WHERE id = ANY($1::varchar[])"
)
KEYS_USED = "SELECT key, fingerprint, resource_id FROM idempotency_keys WHERE scope = $1 AND key = ANY($2::varchar[])"  # noqa: E501
OPEN = """
    SELECT e.id, e.subject, e.team FROM escalations e
    JOIN unnest($1::varchar[], $2::varchar[]) AS p(subject, team)
      ON e.subject = p.subject AND e.team = p.team
    WHERE e.state NOT IN ('RESOLVED', 'HANDED_BACK') ORDER BY e.id FOR UPDATE OF e"""
ESCALATION = """INSERT INTO escalations (id, subject, team, reason_code, severity, summary,
    amount_minor, amount_currency, raised_by, trigger_event_id, attributes, state, assignee,
    info_request, info_response, outcome_code, note, evidence_links, answered_by,
    routing_rule_id, origin_traceparent, response_due_at, version, created_at, updated_at,
    closed_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'OPEN', '', '', '', '', '', '[]', '',
            $12, NULL, $13, 1, $14, $14, NULL)"""
CLOCK = """INSERT INTO response_clocks (escalation_id, team, target_minutes, status, started_at,
    spent_before_us, running_since, paused_total_us, paused_since, pause_reason, stopped_at,
    fired, next_due_at)
    VALUES ($1, $2, $3, 'RUNNING', $4, 0, $4, 0, NULL, NULL, NULL, '', $5)"""
HISTORY = """INSERT INTO escalation_history (escalation_id, action, actor, at, from_state,
    to_state, version, details) VALUES ($1, 'RAISED', 'disputes', $2, '', '', 1, $3)"""
KEY = """INSERT INTO idempotency_keys (scope, key, fingerprint, resource_id, created_at)
    VALUES ($1, $2, $3, $4, $5)"""
EVENT_OUT = """INSERT INTO outbox_events (id, destination, method, payload, subject, traceparent,
    created_at, available_at, attempts, priority)
    VALUES ($1, 'disputes', $2, $3, $4, NULL, $5, $5, 0, 1)"""
SEQUENCES = "UPDATE sequence_counters SET value = value + $1 WHERE name = 'escalation_events' RETURNING value"  # noqa: E501
FEED = """INSERT INTO escalation_events (sequence, escalation_id, team, type, occurred_at, body)
    VALUES ($1, $2, $3, 'escalation.raised', $4, $5)"""
SUBSCRIBERS = (
    "SELECT id, team FROM subscriptions WHERE team = ANY($1::varchar[]) AND deleted_at IS NULL"
)
RULES = """SELECT id, reason_code, root_cause, dispute_reason, customer_flag, team, severity
    FROM routing_rules WHERE active ORDER BY priority, id"""
TARGETS = "SELECT team, severity, target_minutes FROM ola_targets"
# RecordEscalation in disputes
CLAIM_KEYS = """INSERT INTO idempotency_keys (scope, key, fingerprint, resource_id, created_at)
    SELECT 'RecordEscalation', k, '', NULL, $2 FROM unnest($1::varchar[]) AS k
    ON CONFLICT DO NOTHING RETURNING key"""
LOCK_CASES = "SELECT id, version FROM disputes WHERE id = ANY($1::varchar[]) ORDER BY id FOR UPDATE"
TEAMS_HELD = """SELECT t.dispute_id, t.team FROM dispute_teams t
    JOIN unnest($1::varchar[], $2::varchar[]) AS p(dispute_id, team)
      ON t.dispute_id = p.dispute_id AND t.team = p.team"""
GRANT = """INSERT INTO dispute_teams (dispute_id, team, escalation, created_at)
    VALUES ($1, $2, $3, $4)"""
RECORDED = """INSERT INTO dispute_history (dispute_id, kind, actor, occurred_at, version,
    from_status, to_status, comment, details, traceparent)
    VALUES ($1, 'ESCALATION_RECORDED', 'escalation', $2, $3, NULL, NULL, '', $4, NULL)"""
RECORD_METHOD = "/settle.disputes.v1.DisputesService/RecordEscalation"
BATCH = 100  # the relay's lease


class BareEscalation:
    def __init__(self, disputes: asyncpg.Connection, escalation: asyncpg.Connection):
        self.d, self.e = disputes, escalation
        self.rules: list = []
        self.targets: dict[tuple[str, int], int] = {}

    async def load_reference(self) -> None:
        self.rules = list(await self.e.fetch(RULES))
        self.targets = {(r["team"], r["severity"]): r["target_minutes"]
                        for r in await self.e.fetch(TARGETS)}  # fmt: skip

    async def pass_once(self) -> int:
        """One relay pass over the disputes outbox, then one over the escalation outbox."""
        raised = await self._raise()
        await self._record()
        return raised

    async def _lease(self, conn: asyncpg.Connection, now: datetime) -> list:
        async with conn.transaction():
            rows = await conn.fetch(LEASE, now, BATCH)
            if rows:
                await conn.execute(LEASED, [r["id"] for r in rows], now + timedelta(seconds=30))
        return rows

    async def _raise(self) -> int:
        now = datetime.now(UTC)
        leased = await self._lease(self.d, now)
        if not leased:
            return 0
        items = [(r["id"], escalation_pb2.RaiseEscalationRequest.FromString(r["payload"]))
                 for r in leased]  # fmt: skip
        routed = [(event_id, req, self._route(req)) for event_id, req in items]
        async with self.e.transaction():
            keys = [req.request_id for _, req, _ in routed]
            used = {r["key"] for r in await self.e.fetch(KEYS_USED, "RaiseEscalation", keys)}
            todo = [x for x in routed if x[1].request_id not in used]
            pairs = sorted({(req.subject, team) for _, req, (team, _, _) in todo})
            open_ = {(r["subject"], r["team"]) for r in await self.e.fetch(
                OPEN, [p[0] for p in pairs], [p[1] for p in pairs])}  # fmt: skip
            escalations, clocks, history, keys_rows, events, feed = [], [], [], [], [], []
            for _, req, (team, severity, rule_id) in todo:
                if (req.subject, team) in open_:
                    continue  # raised again: not in this scenario (one breach per case)
                open_.add((req.subject, team))
                esc_id = uuid.uuid4().hex
                minutes = self.targets.get((team, severity), 240)
                amount = req.amount_at_stake
                escalations.append((
                    esc_id, req.subject, team, req.reason_code, severity, req.summary,
                    round(float(amount.amount) * 100) if amount.amount else None,
                    amount.currency_code or None, req.raised_by, req.trigger_event_id,
                    json.dumps(dict(sorted(req.attributes.items()))), rule_id,
                    now + timedelta(minutes=minutes), now,
                ))  # fmt: skip
                clocks.append((esc_id, team, minutes, now, now + timedelta(minutes=minutes)))
                history.append((esc_id, now, json.dumps({
                    "raised_by": req.raised_by, "reason_code": req.reason_code,
                    "trigger_event_id": req.trigger_event_id, "target_minutes": str(minutes),
                }, sort_keys=True)))  # fmt: skip
                keys_rows.append(("RaiseEscalation", req.request_id, "", esc_id, now))
                record = disputes_pb2.RecordEscalationRequest(
                    dispute=req.subject, escalation=f"escalations/{esc_id}", team=team
                )
                event_id = uuid.uuid4().hex
                record.request_id = event_id
                events.append((event_id, RECORD_METHOD, record.SerializeToString(), req.subject,
                               now))  # fmt: skip
                body = {"escalation": esc_id, "team": team, "subject": req.subject}
                feed.append((esc_id, team, json.dumps(body).encode()))
            if escalations:
                await self.e.executemany(ESCALATION, escalations)
                await self.e.executemany(CLOCK, clocks)
                await self.e.executemany(HISTORY, history)
                await self.e.executemany(KEY, keys_rows)
                await self.e.executemany(EVENT_OUT, events)
                last = await self.e.fetchval(SEQUENCES, len(feed))
                first = last - len(feed) + 1
                await self.e.executemany(
                    FEED,
                    [
                        (first + i, esc_id, team, now, body)
                        for i, (esc_id, team, body) in enumerate(feed)
                    ],
                )
                await self.e.fetch(SUBSCRIBERS, sorted({f[1] for f in feed}))
        await self.d.execute(DELIVERED, [r["id"] for r in leased], datetime.now(UTC))
        return len(leased)

    async def _record(self) -> None:
        now = datetime.now(UTC)
        leased = await self._lease(self.e, now)
        if not leased:
            return
        asks = [disputes_pb2.RecordEscalationRequest.FromString(r["payload"]) for r in leased]
        async with self.d.transaction():
            fresh = {r["key"] for r in await self.d.fetch(
                CLAIM_KEYS, [a.request_id for a in asks], now)}  # fmt: skip
            asks = [a for a in asks if a.request_id in fresh]
            ids = [a.dispute.removeprefix("disputes/") for a in asks]
            versions = {r["id"]: r["version"] for r in await self.d.fetch(LOCK_CASES, ids)}
            held = {(r["dispute_id"], r["team"]) for r in await self.d.fetch(
                TEAMS_HELD, ids, [a.team for a in asks])}  # fmt: skip
            grants = [(i, a.team, a.escalation, now) for i, a in zip(ids, asks, strict=True)
                      if (i, a.team) not in held]  # fmt: skip
            if grants:
                await self.d.executemany(GRANT, grants)
            await self.d.executemany(RECORDED, [
                (i, now, versions[i], json.dumps({"escalation": a.escalation, "team": a.team,
                                                 "granted": "true"}, sort_keys=True))
                for i, a in zip(ids, asks, strict=True)
            ])  # fmt: skip
        await self.e.execute(DELIVERED, [r["id"] for r in leased], datetime.now(UTC))

    def _route(self, req) -> tuple[str, int, str | None]:
        """(team, severity, rule id): the first active rule whose conditions all hold."""
        attrs = req.attributes
        facts = {"reason_code": req.reason_code, "root_cause": attrs.get("root_cause", ""),
                 "dispute_reason": attrs.get("dispute_reason", "")}  # fmt: skip
        flags = {f for f in ("bankruptcy", "in_litigation") if attrs.get(f) == "true"}
        for rule in self.rules:
            if all(rule[k] in ("", v) for k, v in facts.items()) and (
                not rule["customer_flag"] or rule["customer_flag"] in flags
            ):
                return rule["team"], rule["severity"], rule["id"]
        return "TEAM_LEAD", 2, None
