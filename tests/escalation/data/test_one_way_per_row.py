"""The data-access rule on the raise batch: each row is written one way in a transaction. A new
escalation that a later item of the same batch raises again is inserted once, as it ends up, by
the Core insert: no UPDATE of a row the batch inserted."""

from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import event

from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.support import raise_request

CASE = "disputes/" + "f" * 32


@contextmanager
def statements(esc):
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    engine = esc.parts.ctx.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def item(request_id: str, reason: str, severity) -> pb.RaiseEscalationsRequest.Item:
    return pb.RaiseEscalationsRequest.Item(
        request=raise_request(
            CASE, team=pb.GBS, reason_code=reason, severity=severity, request_id=request_id
        )
    )


async def test_a_new_escalation_raised_again_in_its_batch_is_inserted_once_as_it_ends(esc):
    batch = pb.RaiseEscalationsRequest(
        items=[
            item("r-1", "SLA_WARNING", pb.LOW),
            item("r-2", "SLA_BREACH", pb.HIGH),  # the same case and team: raised again
            item("r-3", "SLA_BREACH", pb.MEDIUM),  # again, lower: recorded only
        ]
    )
    with statements(esc) as seen:
        answer = await esc.stub.RaiseEscalations(batch)
    first, second, third = (r.escalation for r in answer.results)
    assert first.name == second.name == third.name
    # Each item's answer is the escalation as that item left it.
    assert (first.severity, first.reason_code) == (pb.LOW, "SLA_WARNING")
    assert (second.severity, second.reason_code) == (pb.HIGH, "SLA_BREACH")
    assert third == second
    writes = [s for s in seen if re.match(r"(INSERT|UPDATE|DELETE)", s)]
    touched = [s for s in writes if re.search(r"\b(escalations|response_clocks)\b", s)]
    assert [s.split(" (")[0] for s in touched] == [
        "INSERT INTO escalations",
        "INSERT INTO response_clocks",
    ], touched
    history = await esc.stub.ListEscalationHistory(
        pb.ListEscalationHistoryRequest(parent=first.name)
    )
    assert [(h.action, h.version) for h in history.entries] == [
        ("RAISED", 1),
        ("SEVERITY_RAISED", 2),
        ("RAISED_AGAIN", 2),
    ]
    got = await esc.stub.GetEscalation(pb.GetEscalationRequest(name=first.name))
    assert got == second


async def test_an_escalation_open_before_the_batch_is_changed_through_the_unit_of_work(esc):
    before = await esc.stub.RaiseEscalation(
        raise_request(CASE, team=pb.GBS, reason_code="SLA_WARNING", severity=pb.LOW)
    )
    batch = pb.RaiseEscalationsRequest(
        items=[item("r-1", "SLA_BREACH", pb.LOW), item("r-2", "SLA_BREACH", pb.HIGH)]
    )
    with statements(esc) as seen:
        answer = await esc.stub.RaiseEscalations(batch)
    first, second = (r.escalation for r in answer.results)
    assert first.name == second.name == before.name
    assert (first.reason_code, first.severity) == ("SLA_BREACH", pb.LOW)
    assert second.severity == pb.HIGH
    touched = [
        s for s in seen if re.search(r"^(INSERT INTO|UPDATE) (escalations|response_clocks)\b", s)
    ]
    assert touched and all(s.startswith("UPDATE") for s in touched), touched
