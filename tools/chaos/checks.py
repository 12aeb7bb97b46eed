"""The promises checked after a chaos run, on what the auditor read from each service's database
(audit.py). Pure: the negative controls in tests/chaos feed it broken data."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

# Cases that still hold money (the disputes status machine's ACTIVE set).
HOLDING = frozenset(
    {"NEW", "OPEN", "IN_PROGRESS", "PENDING_CUSTOMER", "PENDING_INTERNAL", "REOPENED"}
)
# How far behind a running clock the sweeper may still be when the audit reads it (µs), and the
# rounding allowed between a stop and a milestone due at that same instant.
SWEEP_GRACE_US = 5_000_000
ROUNDING_US = 1_000


@dataclass(frozen=True)
class Item:
    dispute: str  # "disputes/<id>"
    invoice_id: str
    status: str
    still: int
    credited: int
    written_off: int


@dataclass(frozen=True)
class Clock:
    id: str
    dispute: str
    kind: str
    cycle: int
    target_us: int
    warning_percents: tuple[int, ...]
    spent_us: int  # business time spent when the audit read it
    running: bool

    def due_milestones(self) -> list[str]:
        """Milestones whose due time has passed by the audit (a running clock given the
        sweeper's grace)."""
        slack = ROUNDING_US + (SWEEP_GRACE_US if self.running else 0)
        thresholds = {f"WARNING_{p}": self.target_us * p // 100 for p in self.warning_percents}
        thresholds["BREACH"] = self.target_us
        return [name for name, at in thresholds.items() if self.spent_us > at + slack]


@dataclass
class Audit:
    acknowledged: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> rid -> name
    stored: dict[str, Counter] = field(default_factory=dict)  # kind -> rid -> rows found
    items: list[Item] = field(default_factory=list)
    holds: dict[tuple[str, str], int] = field(default_factory=dict)  # (dispute, invoice) -> minor
    credits: dict[tuple[str, str], int] = field(default_factory=dict)
    write_offs: dict[tuple[str, str], int] = field(default_factory=dict)
    clocks: list[Clock] = field(default_factory=list)
    firings: Counter = field(default_factory=Counter)  # (dispute, kind, cycle, milestone) -> n
    lateness_ms: list[int] = field(default_factory=list)
    escalations_sent: Counter = field(default_factory=Counter)  # trigger id -> outbox events
    escalations_recorded: Counter = field(default_factory=Counter)  # trigger id -> raise rows
    pending: dict[str, int] = field(default_factory=dict)  # service -> undelivered events
    parked: dict[str, int] = field(default_factory=dict)  # service -> dead events
    delivered: dict[str, int] = field(default_factory=dict)
    server_errors: Counter = field(default_factory=Counter)  # "POST /v1/x 500" -> answers
    read_at: datetime | None = None


def violations(audit: Audit) -> list[str]:
    found: list[str] = []
    for check in (_resources, _holds, _money, _milestones, _escalations, _outboxes, _errors):
        found += check(audit)
    return found


def _resources(a: Audit) -> list[str]:
    found = []
    for kind, stored in a.stored.items():
        found += [
            f"{kind} {rid}: {n} rows for one request_id" for rid, n in stored.items() if n > 1
        ]
    for kind, acknowledged in a.acknowledged.items():
        stored = a.stored.get(kind, Counter())
        found += [f"{kind} {rid} ({name}): acknowledged but not stored"
                  for rid, name in acknowledged.items() if not stored[rid]]  # fmt: skip
    return found


def _holds(a: Audit) -> list[str]:
    found = []
    for i in a.items:
        expected = i.still if i.status in HOLDING else 0
        held = a.holds.get((i.dispute, i.invoice_id), 0)
        if held != expected:
            found.append(
                f"hold {i.dispute} on invoices/{i.invoice_id}: accounts holds {held}, "
                f"disputes says {expected} ({i.status}, still disputed {i.still})"
            )
    keys = {(i.dispute, i.invoice_id) for i in a.items}
    found += [f"hold {d} on invoices/{inv}: {m} held for no disputed item"
              for (d, inv), m in a.holds.items() if m and (d, inv) not in keys]  # fmt: skip
    return found


def _money(a: Audit) -> list[str]:
    found = []
    for i in a.items:
        key = (i.dispute, i.invoice_id)
        for what, posted, expected in (
            ("credit", a.credits.get(key, 0), i.credited),
            ("write-off", a.write_offs.get(key, 0), i.written_off),
        ):
            if posted != expected:
                found.append(
                    f"{what} {i.dispute} on invoices/{i.invoice_id}: accounts posted {posted}, "
                    f"disputes says {expected}"
                )
    return found


def _milestones(a: Audit) -> list[str]:
    found = []
    for c in a.clocks:
        for name in c.due_milestones():
            if not a.firings[(c.dispute, c.kind, c.cycle, name)]:
                found.append(
                    f"milestone {c.dispute} {c.kind} cycle {c.cycle} {name}: due "
                    f"(spent {c.spent_us / 1e6:.2f} s of {c.target_us / 1e6:.2f} s) but never fired"
                )
    found += [f"milestone {d} {k} cycle {cy} {m}: fired {n} times"
              for (d, k, cy, m), n in a.firings.items() if n > 1]  # fmt: skip
    return found


def _escalations(a: Audit) -> list[str]:
    found = []
    for trigger, sent in a.escalations_sent.items():
        recorded = a.escalations_recorded[trigger]
        if sent != 1 or recorded != 1:
            found.append(
                f"escalation for milestone {trigger}: sent {sent} times, recorded {recorded} times"
            )
    return found


def _outboxes(a: Audit) -> list[str]:
    found = [f"outbox {s}: {n} events still pending" for s, n in a.pending.items() if n]
    found += [f"outbox {s}: {n} events parked (dead)" for s, n in a.parked.items() if n]
    return found


def _errors(a: Audit) -> list[str]:
    return [f"{call}: answered {n} times (must be 503 and retried)"
            for call, n in a.server_errors.items()]  # fmt: skip
