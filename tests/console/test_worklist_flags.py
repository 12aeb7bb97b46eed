"""The worklist's SLA flag per customer, composed from one page of the disputes list."""

from __future__ import annotations

from console.views.worklist import SLA_FILTER, SlaFlag, sla_flags


def case(name: str, customer: str, state: str) -> dict:
    return {"name": f"disputes/{name}", "customer": f"customers/{customer}", "slaState": state}


def test_each_customer_is_flagged_with_its_worst_case_the_earliest_due_of_that_state():
    listed = [  # as the list returns them: earliest due first
        case("w1", "acme", "WARNED"),
        case("b1", "acme", "BREACHED"),
        case("b2", "acme", "BREACHED"),
        case("w2", "bolt", "WARNED"),
        case("w3", "bolt", "WARNED"),
    ]
    assert sla_flags(listed) == {
        "customers/acme": SlaFlag("SLA breached", "bad", "disputes/b1", 3),
        "customers/bolt": SlaFlag("SLA warning", "warn", "disputes/w2", 2),
    }


def test_cases_neither_warned_nor_breached_flag_nothing():
    assert sla_flags([case("p", "acme", "PAUSED"), case("o", "bolt", "ON_TRACK")]) == {}


def test_the_one_call_asks_for_open_cases_that_are_neither_on_track_nor_paused():
    terms = SLA_FILTER.split(" AND ")
    assert {"sla_state!=ON_TRACK", "sla_state!=PAUSED"} <= set(terms)
    assert {f"status!={s}" for s in ("RESOLVED", "CLOSED", "WITHDRAWN", "VOIDED")} <= set(terms)
