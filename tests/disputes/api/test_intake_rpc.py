"""Opening a case: one transaction, its rows one statement on PostgreSQL (one per table on
SQLite), reference rows (reasons, SLA policies, calendars) from the process yet changes to them
seen by the very next case, and the first answer identical to what a retry reads back from the
database."""

from __future__ import annotations

import re

import grpc
from sqlalchemy import event

from settle.disputes.v1 import disputes_pb2 as pb
from tests.disputes import support as s
from tests.support.rpc import expect_error

REFERENCE_TABLES = ("reason_codes", "sla_policies", "calendars")


async def _open(system, customer, invoice_name: str, **fields) -> pb.Dispute:
    return await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(dispute=s.new_case(customer.name, s.whole(invoice_name), **fields))
    )


async def _invoice(system, customer, number: str) -> str:
    return (await s.invoice(system.accounts, customer.name, number)).name


def _statements(system) -> list[str]:
    seen: list[str] = []
    engine = system.assembly.ctx.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(" ".join(a[2].split())))
    return seen


async def test_a_new_case_is_one_insert_per_table_and_reads_no_reference_rows(system, backend):
    c = await s.customer(system.accounts)
    await _open(system, c, await _invoice(system, c, "INV-1"))  # warms the reference data
    seen = _statements(system)
    await system.disputes.CreateDispute(
        pb.CreateDisputeRequest(
            dispute=s.new_case(c.name, s.whole(await _invoice(system, c, "INV-2")), first_note="n"),
            request_id="open-2",
        )
    )
    writes = [x for x in seen if re.search(r"\b(INSERT|UPDATE|DELETE)\b", x)]
    tables = [t for x in writes for t in re.findall(r"INSERT INTO (\w+)", x)]
    assert not [x for x in writes if re.search(r"\b(UPDATE|DELETE)\b", x)], seen  # no replan
    assert sorted(tables) == sorted(set(tables))  # nothing written twice
    # PostgreSQL: the key first (a twin waits on it), then the whole case in one statement
    assert len(writes) == (2 if backend == "postgres" else len(tables)), writes
    assert set(tables) == {
        "idempotency_keys",
        "disputes",
        "dispute_items",
        "dispute_notes",
        "sla_clocks",
        "clock_milestones",
        "dispute_history",
        "outbox_events",
    }
    assert not [x for x in seen if any(f" {t} " in f"{x} " for t in REFERENCE_TABLES)], seen


async def test_the_first_answer_is_the_case_as_a_retry_reads_it(system):
    c = await s.customer(system.accounts)
    request = pb.CreateDisputeRequest(
        dispute=s.new_case(
            c.name, s.whole(await _invoice(system, c, "INV-1")), first_note="called them"
        ),
        request_id="open-1",
    )
    first = await system.disputes.CreateDispute(request)
    assert first == await system.disputes.CreateDispute(request)
    assert first == await system.disputes.GetDispute(pb.GetDisputeRequest(name=first.name))
    assert len(first.clocks) == 2 and first.notes[0].text == "called them"


async def test_a_reason_deactivated_after_use_is_refused_by_the_next_case(system):
    c = await s.customer(system.accounts)
    code = await system.disputes.CreateReasonCode(
        pb.CreateReasonCodeRequest(reason_code=pb.ReasonCode(code="EDI_PRICE"))
    )
    await _open(system, c, await _invoice(system, c, "INV-1"), reason="EDI_PRICE")
    await system.disputes.DeactivateReasonCode(pb.DeactivateReasonCodeRequest(name=code.name))
    await expect_error(
        _open(system, c, await _invoice(system, c, "INV-2"), reason="EDI_PRICE"),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="dispute.reason_code",
    )


async def test_policies_and_calendars_created_after_a_case_apply_to_the_next(system):
    c = await s.customer(system.accounts)
    before = await _open(system, c, await _invoice(system, c, "INV-1"), reason="WRONG_ITEM")
    await system.disputes.CreateCalendar(
        pb.CreateCalendarRequest(
            calendar_id="acme", calendar=pb.Calendar(time_zone="Europe/Berlin", customer=c.name)
        )
    )
    policy = await system.disputes.CreateSlaPolicy(
        pb.CreateSlaPolicyRequest(
            sla_policy=pb.SlaPolicy(
                clock=pb.RESOLVE,
                target=pb.SlaTarget(value=2, unit=pb.BUSINESS_HOURS),
                reason_codes=["WRONG_ITEM"],
                precedence=100,
                active=True,
            )
        )
    )
    after = await _open(system, c, await _invoice(system, c, "INV-2"), reason="WRONG_ITEM")
    resolve = {
        case.name: next(k for k in case.clocks if k.kind == pb.RESOLVE) for case in (before, after)
    }
    assert resolve[before.name].policy != policy.name
    assert resolve[after.name].policy == policy.name
    assert resolve[before.name].calendar == "calendars/default"
    assert resolve[after.name].calendar == "calendars/acme"
