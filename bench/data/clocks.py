"""SLA clocks at scale for the sweeper scenario, generated inside PostgreSQL (INSERT … SELECT
generate_series: millions of rows in seconds, nothing shipped through Python).

Shape, for `history` past events, `pending` running clocks and `due` events per due set:
- closed cases (history / 6 of them), two met clocks each, every warning and breach fired in the
  past: `history` fired milestones and as many `dispute_history` rows (CLOCK_WARNED/BREACHED);
- open cases (pending / 2), two running clocks each (acknowledge 24 h, resolve 240 h, calendar
  hours), three unfired milestones per clock, all due hours or days from now;
- two due sets of `due` open cases each (one for Settle's sweeper, one for the bare baseline):
  their acknowledge milestones are written only when the scenario schedules them
  (`schedule`), due one after another at `rate` per second from a start time; one in ten is a
  breach (its two warnings already fired), the others a 50 % warning. Reasons alternate PRICING
  (routed to SALES) and QUALITY (TEAM_LEAD), so escalation routing can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

CASE, CLOCK, MILESTONE, ITEM, CUSTOMER = 0x0B, 0x0C, 0x0D, 0x0E, 0x01
ACK_H, RESOLVE_H = 24, 240
STEPS = (("WARNING_50", 0.5), ("WARNING_75", 0.75), ("BREACH", 1.0))
BREACH_EVERY = 10


def hid(kind: int, expr: str) -> str:
    """SQL for the bench's time-ordered-looking 32-hex ids (same as bench.data.portfolio)."""
    return f"(lpad(to_hex({0x019A0000 + kind}), 8, '0') || lpad(to_hex(({expr})::bigint), 24, '0'))"


def case_id(n: int) -> str:
    return f"{0x019A0000 + CASE:08x}{n:024x}"


@dataclass
class ClockSet:
    history: int
    pending: int
    due: int
    old_cases: int = 0
    open_lo: int = 0  # first open case
    rows: dict | None = None

    def __post_init__(self) -> None:
        self.old_cases = -(-self.history // 6)
        self.open_lo = self.old_cases
        if self.pending // 2 < 2 * self.due:
            raise ValueError("pending clocks must cover both due sets")

    def due_range(self, which: int) -> tuple[int, int]:
        """Case numbers [lo, hi) of due set 0 (Settle) or 1 (baseline)."""
        lo = self.open_lo + which * self.due
        return lo, lo + self.due

    def describe(self) -> dict:
        return {"past_clock_events": self.history, "pending_clocks": self.pending,
                "due_events_per_set": self.due, "breach_share": 1 / BREACH_EVERY,
                "rows": self.rows}  # fmt: skip


def _cases(lo: int, hi: int, status: str, created: str) -> str:
    return f"""
    INSERT INTO disputes (id, customer_id, title, reason_code, priority, priority_rank, status,
        assignee, coordinator, external_ref, currency, customer_risk_class, customer_bankruptcy,
        customer_in_litigation, sla_state, due_at, version, created_at, updated_at)
    SELECT {hid(CASE, "c")}, {hid(CUSTOMER, "c % 20000")}, 'Bench case ' || c,
        CASE WHEN c % 2 = 0 THEN 'PRICING' ELSE 'QUALITY' END, 'MEDIUM', 2, '{status}',
        'user:bench', '', '', 'EUR', 'MEDIUM', false, false, 'ON_TRACK', NULL, 1,
        {created}, {created}
    FROM generate_series({lo}, {hi - 1}) AS c;
    INSERT INTO dispute_items (dispute_id, invoice_id, position, invoice_number, line_numbers,
        original_minor, still_minor, paid_minor, credited_minor, written_off_minor)
    SELECT {hid(CASE, "c")}, {hid(ITEM, "c")}, 0, 'INV' || c, '', 100000,
        {"0" if status == "CLOSED" else "100000"}, 0, 0, 0
    FROM generate_series({lo}, {hi - 1}) AS c;"""


def _clocks(lo: int, hi: int, *, started: str, status: str, fired: str, kinds=(0, 1)) -> str:
    running = "NULL" if status != "RUNNING" else "s.started"
    stopped = "s.started + make_interval(hours => s.h)" if status != "RUNNING" else "NULL"
    spent = "s.h::bigint * 3600000000" if status != "RUNNING" else "0"
    return f"""
    INSERT INTO sla_clocks (id, dispute_id, kind, cycle, status, pausable, policy_id, calendar_id,
        target_value, target_unit, target_us, warning_percents, fired, started_at,
        spent_before_us, running_since, paused_total_us, stopped_at)
    SELECT {hid(CLOCK, "2 * s.c + s.k")}, {hid(CASE, "s.c")},
        CASE s.k WHEN 0 THEN 'ACKNOWLEDGE' ELSE 'RESOLVE' END, 1, '{status}', s.k = 1,
        CASE s.k WHEN 0 THEN 'bench-ack-24h' ELSE 'bench-resolve-240h' END, 'default', s.h,
        'CALENDAR_HOURS', s.h::bigint * 3600000000, '50,75', {fired}, s.started, {spent},
        {running}, 0, {stopped}
    FROM (SELECT c, k, CASE k WHEN 0 THEN {ACK_H} ELSE {RESOLVE_H} END AS h, {started} AS started
          FROM generate_series({lo}, {hi - 1}) AS c,
               unnest(ARRAY{list(kinds)}) AS k) AS s;"""


def _milestones(lo: int, hi: int, *, fired: bool, kinds=(0, 1)) -> str:
    steps = ", ".join(f"({j}, '{name}', {pct})" for j, (name, pct) in enumerate(STEPS))
    fired_at = "m.due" if fired else "NULL"
    return f"""
    INSERT INTO clock_milestones (id, clock_id, dispute_id, name, due_at, fired_at)
    SELECT {hid(MILESTONE, "6 * m.c + 3 * m.k + m.j")}, {hid(CLOCK, "2 * m.c + m.k")},
        {hid(CASE, "m.c")}, m.name, m.due, {fired_at}
    FROM (SELECT c, k, j, name, clk.started_at + clk.target_us * pct * interval '1 microsecond'
                 AS due
          FROM generate_series({lo}, {hi - 1}) AS c, unnest(ARRAY{list(kinds)}) AS k,
               (VALUES {steps}) AS st(j, name, pct),
               LATERAL (SELECT started_at, target_us FROM sla_clocks
                        WHERE id = {hid(CLOCK, "2 * c + k")}) AS clk) AS m;"""


def _history(lo: int, hi: int) -> str:
    return f"""
    INSERT INTO dispute_history (dispute_id, kind, actor, occurred_at, version, comment, details)
    SELECT m.dispute_id, CASE m.name WHEN 'BREACH' THEN 'CLOCK_BREACHED' ELSE 'CLOCK_WARNED' END,
        'rule:sla', m.fired_at, 1, '',
        '{{"clock": "' || c.kind || '", "threshold": "' || m.name || '", "policy": "' ||
        c.policy_id || '"}}'
    FROM clock_milestones m JOIN sla_clocks c ON c.id = m.clock_id
    WHERE m.dispute_id BETWEEN {_lit(case_id(lo))} AND {_lit(case_id(hi - 1))};"""


def _lit(text: str) -> str:
    return f"'{text}'"


POLICIES = """
INSERT INTO sla_policies (id, display_name, clock_kind, target_value, target_unit, reason_codes,
    priorities, risk_classes, warning_percents, precedence, active, version, created_at,
    updated_at)
VALUES ('bench-ack-24h', 'Bench: acknowledge in 24 h', 'ACKNOWLEDGE', 24, 'CALENDAR_HOURS', '',
        '', '', '50,75', -1, true, 1, now(), now()),
       ('bench-resolve-240h', 'Bench: resolve in 240 h', 'RESOLVE', 240, 'CALENDAR_HOURS', '', '',
        '', '50,75', -1, true, 1, now(), now());
"""


async def load(dsn: str, clocks: ClockSet, chunk: int = 100_000) -> None:
    """Precedence −1 keeps the bench policies out of real intake (the seeded ones win)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET session_replication_role = replica")  # consistent by construction
        await conn.execute(POLICIES)
        old_started = "now() - interval '60 days' - make_interval(secs => c % 86400)"
        for lo in range(0, clocks.old_cases, chunk):
            hi = min(clocks.old_cases, lo + chunk)
            await conn.execute(_cases(lo, hi, "CLOSED", "now() - interval '61 days'"))
            await conn.execute(_clocks(lo, hi, started=old_started, status="MET",
                                       fired="'WARNING_50,WARNING_75,BREACH'"))  # fmt: skip
            await conn.execute(_milestones(lo, hi, fired=True))
            await conn.execute(_history(lo, hi))
        open_hi = clocks.open_lo + clocks.pending // 2
        due_hi = clocks.due_range(1)[1]
        fresh = "now() - make_interval(secs => c % 3600)"
        for lo in range(clocks.open_lo, open_hi, chunk):
            hi = min(open_hi, lo + chunk)
            spread = "now() - interval '1 hour' - make_interval(secs => c % 2592000)"  # 30 days
            await conn.execute(_cases(lo, hi, "IN_PROGRESS", spread))
            await conn.execute(_clocks(lo, hi, started=fresh, status="RUNNING", fired="''"))
            # due sets: their acknowledge milestones are written by `schedule`
            plain = max(lo, due_hi)
            if lo < due_hi:
                await conn.execute(_milestones(lo, min(hi, due_hi), fired=False, kinds=(1,)))
            if plain < hi:
                await conn.execute(_milestones(plain, hi, fired=False))
        # an open case's due time is its resolve clock's (what worklists sort and filter on)
        await conn.execute("""
            UPDATE disputes d SET due_at = c.started_at + c.target_us * interval '1 microsecond'
            FROM sla_clocks c WHERE c.dispute_id = d.id AND c.kind = 'RESOLVE'
              AND d.status = 'IN_PROGRESS'""")
        await conn.execute("SET session_replication_role = DEFAULT")
        await conn.execute("VACUUM ANALYZE")
        clocks.rows = {
            t: await conn.fetchval(f"SELECT count(*) FROM {t}")
            for t in ("disputes", "sla_clocks", "clock_milestones", "dispute_history")
        }
    finally:
        await conn.close()


async def schedule(
    conn: asyncpg.Connection, clocks: ClockSet, which: int, start: datetime, rate: float
) -> dict[str, tuple[datetime, str]]:
    """Makes due set `which` come due from `start` at `rate` events/s: its acknowledge clocks
    restart so that the due milestone falls on its slot. Returns case id → (due, milestone)."""
    lo, hi = clocks.due_range(which)
    due = f"$1::timestamptz + ((c - {lo}) / $2::float8) * interval '1 second'"
    breach = f"(c - {lo}) % {BREACH_EVERY} = 0"
    started = f"({due}) - CASE WHEN {breach} THEN interval '{ACK_H} hours' ELSE interval '{ACK_H // 2} hours' END"  # noqa: E501
    async with conn.transaction():
        await conn.execute(f"""
            UPDATE sla_clocks s SET started_at = x.started, running_since = x.started,
                fired = CASE WHEN x.breach THEN 'WARNING_50,WARNING_75' ELSE '' END
            FROM (SELECT {hid(CLOCK, "2 * c")} AS id, {started} AS started, {breach} AS breach
                  FROM generate_series({lo}, {hi - 1}) AS c) x
            WHERE s.id = x.id""", start, rate)  # fmt: skip
        await conn.execute(f"""
            UPDATE disputes d SET sla_state = 'WARNED'
            FROM generate_series({lo}, {hi - 1}, {BREACH_EVERY}) AS c
            WHERE d.id = {hid(CASE, "c")}""")  # fmt: skip
        await conn.execute(_milestones(lo, hi, fired=False, kinds=(0,)))
        # a breach's two warnings fired at their own due times, before the run
        await conn.execute(f"""
            UPDATE clock_milestones SET fired_at = due_at
            WHERE id IN (SELECT {hid(MILESTONE, "6 * c + j")}
                         FROM generate_series({lo}, {hi - 1}, {BREACH_EVERY}) AS c,
                              (VALUES (0), (1)) AS w(j))""")  # fmt: skip
    return {
        case_id(c): (start + timedelta(seconds=(c - lo) / rate),
                     "BREACH" if (c - lo) % BREACH_EVERY == 0 else "WARNING_50")
        for c in range(lo, hi)
    }  # fmt: skip
