"""The chaos audit's checks (tools/chaos/checks.py): consistent data passes, and each broken
promise fed to it deliberately (the negative controls) is reported."""

from __future__ import annotations

from collections import Counter

import pytest

from tools.chaos.checks import SWEEP_GRACE_US, Audit, Clock, Item, violations

CASE, INVOICE, MILESTONE = "disputes/d1", "i1", "m-breach-1"


def consistent() -> Audit:
    """One open case holding 250 on an invoice, one resolved case that credited 400 and wrote
    off 100, a resolve clock run past its target whose warnings and breach fired once each, the
    breach escalated once; outboxes drained."""
    return Audit(
        acknowledged={"dispute": {"r1": CASE, "r2": "disputes/d2"}},
        stored={"dispute": Counter({"r1": 1, "r2": 1})},
        items=[
            Item(CASE, INVOICE, "IN_PROGRESS", still=250, credited=0, written_off=0),
            Item("disputes/d2", "i2", "RESOLVED", still=0, credited=400, written_off=100),
        ],
        holds={(CASE, INVOICE): 250, ("disputes/d2", "i2"): 0},
        credits={("disputes/d2", "i2"): 400},
        write_offs={("disputes/d2", "i2"): 100},
        clocks=[Clock("c1", CASE, "RESOLVE", 1, 5_000_000, (50, 75), 6_000_000, running=False)],
        firings=Counter(
            {(CASE, "RESOLVE", 1, m): 1 for m in ("WARNING_50", "WARNING_75", "BREACH")}
        ),
        escalations_sent=Counter({MILESTONE: 1}),
        escalations_recorded=Counter({MILESTONE: 1}),
        pending={"accounts": 0, "disputes": 0, "escalation": 0},
        parked={"accounts": 0, "disputes": 0, "escalation": 0},
    )


def test_consistent_data_passes():
    assert violations(consistent()) == []


def _duplicated(a: Audit) -> None:
    a.stored["dispute"]["r1"] = 2


def _lost_create(a: Audit) -> None:
    a.stored["dispute"]["r2"] = 0


def _missing_hold(a: Audit) -> None:
    del a.holds[(CASE, INVOICE)]


def _hold_not_released(a: Audit) -> None:
    a.holds[("disputes/d2", "i2")] = 50


def _credit_twice(a: Audit) -> None:
    a.credits[("disputes/d2", "i2")] = 800


def _write_off_lost(a: Audit) -> None:
    del a.write_offs[("disputes/d2", "i2")]


def _due_not_fired(a: Audit) -> None:
    del a.firings[(CASE, "RESOLVE", 1, "BREACH")]


def _fired_twice(a: Audit) -> None:
    a.firings[(CASE, "RESOLVE", 1, "WARNING_50")] = 2


def _escalated_twice(a: Audit) -> None:
    a.escalations_recorded[MILESTONE] = 2


def _not_escalated(a: Audit) -> None:
    a.escalations_recorded[MILESTONE] = 0


def _parked(a: Audit) -> None:
    a.parked["disputes"] = 1


def _not_drained(a: Audit) -> None:
    a.pending["accounts"] = 3


def _answered_500(a: Audit) -> None:
    a.server_errors["POST disputes 500"] = 1


@pytest.mark.parametrize(
    ("breakage", "reported"),
    [
        (_duplicated, "rows for one request_id"),
        (_lost_create, "acknowledged but not stored"),
        (_missing_hold, "accounts holds 0, disputes says 250"),
        (_hold_not_released, "accounts holds 50, disputes says 0"),
        (_credit_twice, "credit disputes/d2 on invoices/i2: accounts posted 800"),
        (_write_off_lost, "write-off disputes/d2 on invoices/i2: accounts posted 0"),
        (_due_not_fired, "BREACH: due (spent 6.00 s of 5.00 s) but never fired"),
        (_fired_twice, "WARNING_50: fired 2 times"),
        (_escalated_twice, "sent 1 times, recorded 2 times"),
        (_not_escalated, "sent 1 times, recorded 0 times"),
        (_parked, "outbox disputes: 1 events parked"),
        (_not_drained, "outbox accounts: 3 events still pending"),
        (_answered_500, "POST disputes 500: answered 1 times"),
    ],
)
def test_each_broken_promise_is_reported(breakage, reported):
    audit = consistent()
    breakage(audit)
    found = violations(audit)
    assert len(found) == 1, found
    assert reported in found[0]


def test_a_running_clock_gets_the_sweepers_grace_a_stopped_one_does_not():
    late = 5_000_000 + SWEEP_GRACE_US // 2  # past the target, within the sweeper's grace
    running = Clock("c", CASE, "RESOLVE", 1, 5_000_000, (), late, running=True)
    stopped = Clock("c", CASE, "RESOLVE", 1, 5_000_000, (), late, running=False)
    assert running.due_milestones() == []
    assert stopped.due_milestones() == ["BREACH"]
