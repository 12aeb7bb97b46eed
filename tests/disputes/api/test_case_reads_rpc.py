"""Cases read for display (GetDispute, ListDisputes) are one statement each, so a case's row,
items, clocks, notes and evidence come from one snapshot; a listed case is the very case that
GetDispute answers. Real servers, on SQLite and PostgreSQL."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from settle.disputes.v1 import disputes_pb2 as pb
from tests.disputes import support as s


@contextmanager
def statements(system):
    """The statements the disputes process runs meanwhile (SQLite's BEGIN IMMEDIATE included)."""
    seen: list[str] = []
    engine = system.assembly.ctx.db.engine.sync_engine

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _case(system, ref: str, *, notes: int = 0) -> pb.Dispute:
    c = await s.customer(system.accounts, ref)
    invoices = [await s.invoice(system.accounts, c.name, f"INV-{ref}-{n}") for n in (1, 2)]
    case = await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(
            dispute=s.new_case(c.name, *(s.whole(i.name) for i in invoices), assignee="user:al")
        )
    )
    for n in range(notes):
        system.clock.advance(timedelta(minutes=1))
        await system.disputes.AddNote(
            pb.AddNoteRequest(parent=case.name, note=pb.Note(text=f"note {n}"))
        )
    if notes:
        await system.disputes.AddEvidence(
            pb.AddEvidenceRequest(
                parent=case.name, evidence=pb.Evidence(uri="https://docs.example/1")
            )
        )
    return case


async def test_a_case_read_for_display_is_one_statement(system):
    case = await _case(system, "C-ONE", notes=3)
    await system.disputes.GetDispute(pb.GetDisputeRequest(name=case.name))  # calendars built

    with statements(system) as seen:
        got = await system.disputes.GetDispute(pb.GetDisputeRequest(name=case.name))
    assert len(seen) == 1, seen
    with statements(system) as seen:
        listed = await system.disputes.ListDisputes(pb.ListDisputesRequest())
    assert len(seen) == 1, seen

    assert [n.text for n in got.notes] == ["note 0", "note 1", "note 2"]
    assert [e.uri for e in got.evidence] == ["https://docs.example/1"]
    assert [i.invoice_number for i in got.items] == ["INV-C-ONE-1", "INV-C-ONE-2"]
    assert sorted(k.kind for k in got.clocks) == sorted([pb.ACKNOWLEDGE, pb.RESOLVE])
    assert listed.disputes == [got]


async def test_listed_cases_are_what_get_answers_page_after_page(system):
    cases = []
    for n in range(5):
        system.clock.advance(timedelta(minutes=5))
        cases.append(await _case(system, f"C-{n}", notes=n % 3))
    pages, token = [], ""
    while True:
        reply = await system.disputes.ListDisputes(
            pb.ListDisputesRequest(order_by="create_time desc", page_size=2, page_token=token)
        )
        pages.append([d.name for d in reply.disputes])
        for listed in reply.disputes:
            got = await system.disputes.GetDispute(pb.GetDisputeRequest(name=listed.name))
            assert listed == got
        token = reply.next_page_token
        if not token:
            break
    assert pages == [
        [cases[4].name, cases[3].name],
        [cases[2].name, cases[1].name],
        [cases[0].name],
    ]
