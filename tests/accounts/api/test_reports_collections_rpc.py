"""The collections reports through the RPCs, on both databases (docs/reports.md §12–§18), on a
ledger written for them: collectible aging, cash against target, promises, the dunning log,
write-offs and the open items streamed as CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime

import grpc

from settle.common.v1 import reports_pb2 as rpb
from tests.accounts.api.reports_support import AS_OF, as_of, rows_of, run_as
from tests.support.rpc import expect_error

ANA, BOB = "user:ana", "user:bob"
_T0 = datetime(2026, 2, 1, tzinfo=UTC)


async def _collections_ledger(database_url: str) -> None:
    """Three customers of ana's: A owes 1,000.00 (300.00 disputed, 500.00 promised), B 400.00 with
    an active legal case, C 250.00 under a dunning block; payments, reversals, promises judged in
    February, a dunning log and write-offs — the worked examples of §12–§16."""
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import create_async_engine

    from services.accounts.data import collections_models as cm
    from services.accounts.data import dunning_models as dm
    from services.accounts.data import models as m

    def customer(cid, dunning_block=False):  # an executemany takes the first row's keys
        return dict(id=cid, display_name=cid, created_at=_T0, updated_at=_T0,
                    dunning_block=dunning_block)  # fmt: skip

    def invoice(iid, cid, due, open_minor, held=0):
        return dict(id=iid, customer_id=cid, external_number=iid, invoice_date=date(2026, 1, 1),
                    due_date=due, currency="EUR", amount_minor=open_minor, open_minor=open_minor,
                    held_minor=held, created_at=_T0)  # fmt: skip

    def allocation(aid, iid, kind, source, minor, on, reason=""):
        return dict(id=aid, invoice_id=iid, source_kind=kind, source_id=source, amount_minor=minor,
                    applied_date=on, reason_code=reason, created_at=_T0)  # fmt: skip

    def promise(pid, state, minor, promised, judged=None, created=_T0):
        # the evaluator judges an open promise at its deadline: none falls due in the test
        return dict(id=pid, customer_id="A", plan_id=pid, currency="EUR", amount_minor=minor,
                    promised_date=promised, deadline_at=datetime(2027, 1, 1, tzinfo=UTC),
                    state=state, taken_by=ANA, created_at=created, judged_at=judged)  # fmt: skip

    judged_at = datetime(2026, 2, 20, tzinfo=UTC)
    judged = [
        promise(f"J{state[0]}{n}", state, 10000, date(2026, 2, 15), judged_at)
        for state, count in (("KEPT", 37), ("PARTIALLY_KEPT", 5), ("BROKEN", 3), ("WITHDRAWN", 2))
        for n in range(count)
    ]
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(insert(m.CustomerRow.__table__), [
            customer("A"), customer("B"), customer("C", dunning_block=True)])  # fmt: skip
        await conn.execute(insert(cm.AssignmentRow.__table__), [
            dict(customer_id=c, collector=ANA, team="T1", updated_at=_T0, updated_by="admin")
            for c in "ABC"])  # fmt: skip
        await conn.execute(insert(m.InvoiceRow.__table__), [
            invoice("A1", "A", date(2026, 1, 15), 100000, held=30000),  # 46 days: 31–60
            invoice("B1", "B", date(2026, 2, 20), 40000),  # 10 days: 1–30
            invoice("C1", "C", date(2026, 4, 1), 25000),  # not yet due
        ])  # fmt: skip
        await conn.execute(insert(dm.LegalCaseRow.__table__), [dict(
            id="L1", customer_id="B", trigger="MANUAL", state="HANDED_OVER", created_at=_T0,
            updated_at=_T0)])  # fmt: skip
        await conn.execute(insert(m.AllocationRow.__table__), [
            allocation("P1", "A1", "PAYMENT", "pay-1", 60000, date(2026, 2, 10)),
            allocation("P2", "B1", "PAYMENT", "pay-2", 10000, date(2026, 2, 12)),
            allocation("R2", "B1", "REVERSAL", "P2", -10000, date(2026, 2, 20)),
            allocation("P3", "A1", "PAYMENT", "pay-3", 99900, date(2026, 3, 1)),  # after Feb
            allocation("W1", "A1", "WRITE_OFF", "wo-1", 5000, date(2026, 2, 15), "SMALL_BALANCE"),
            allocation("W1R", "A1", "WRITE_OFF", "wo-1", -5000, date(2026, 2, 20),
                       "SMALL_BALANCE"),
            allocation("W2", "B1", "WRITE_OFF", "wo-2", 3000, date(2026, 2, 16), "SMALL_BALANCE"),
        ])  # fmt: skip
        after_payments = datetime(2026, 3, 2, tzinfo=UTC)  # paid_toward counts nothing yet
        await conn.execute(insert(cm.PromiseRow.__table__), [
            promise("OPEN-A1", "OPEN", 50000, date(2026, 3, 1), created=after_payments),
            promise("OPEN-2", "OPEN", 1000, date(2026, 3, 5)),
            promise("OPEN-3", "OPEN", 2000, date(2026, 3, 10)),
            promise("OPEN-4", "OPEN", 3000, date(2026, 4, 1)),
            *judged,
        ])  # fmt: skip
        await conn.execute(insert(cm.PromiseInvoiceRow.__table__),
                           [dict(promise_id="OPEN-A1", invoice_id="A1")])  # fmt: skip
        decided = datetime(2026, 2, 10, 6, tzinfo=UTC)
        await conn.execute(insert(dm.DunningDecisionRow.__table__), [
            dict(business_date=day, customer_id=c, currency="EUR", outcome=outcome,
                 decided_at=decided)
            for day, c, outcome in ((date(2026, 2, 10), "A", "NOTICE"),
                                    (date(2026, 2, 10), "B", "CUSTOMER_FLAGGED"),
                                    (date(2026, 2, 10), "C", "CUSTOMER_FLAGGED"),
                                    (date(2026, 2, 11), "A", "TOO_SOON"))
        ])  # fmt: skip
        await conn.execute(insert(dm.NoticeRow.__table__), [dict(
            id="N1", key="A-EUR-1", customer_id="A", currency="EUR", level=1,
            level_code="REMINDER", business_date=date(2026, 2, 10), ladder_id="default",
            ladder_version=1, channel="EMAIL", template_id="reminder", total_minor=20000,
            state="SENT", available_at=decided, created_at=decided)])  # fmt: skip
    await engine.dispose()


async def test_collectible_aging_splits_open_into_dispute_promised_legal_blocked_dunnable(
    accounts, reports
):
    """§12: open = in dispute + promised + in legal + blocked + dunnable, per bucket."""
    await _collections_ledger(accounts.database_url)
    result = await run_as(reports, rpb.RunReportRequest(report="aging-collectible"), ANA)
    assert [c.name for c in result.tables[0].columns][3:] == [
        "bucket", "open", "in_dispute", "promised", "in_legal", "blocked", "dunnable", "invoices"
    ]  # fmt: skip
    assert rows_of(result.tables[0]) == [
        [ANA, "T1", "EUR", "Current", "250.00", "0.00", "0.00", "0.00", "250.00", "0.00", 1],
        [ANA, "T1", "EUR", "1–30", "400.00", "0.00", "0.00", "400.00", "0.00", "0.00", 1],
        [ANA, "T1", "EUR", "31–60", "1000.00", "300.00", "500.00", "0.00", "0.00", "200.00", 1],
    ]
    others = await run_as(reports, rpb.RunReportRequest(report="aging-collectible"), BOB)
    assert rows_of(others.tables[0]) == []
    await expect_error(
        reports.RunReport(rpb.RunReportRequest(report="aging-collectible", as_of=as_of(AS_OF))),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="as_of",
    )


FEBRUARY = {"period_start": "2026-02-01", "period_end": "2026-02-28"}


async def test_cash_collected_against_target_per_collector(accounts, reports):
    """§13: 600.00 paid in February (a 100.00 payment reversed in it counts nothing), against a
    target of 800.00 → 75.00 %; bob's target without cash → 0.00 %."""
    await _collections_ledger(accounts.database_url)
    request = rpb.RunReportRequest(
        report="cash-against-target",
        targets=[f"{ANA}:EUR:800.00", f"{BOB}:EUR:100"],
        **FEBRUARY,
    )
    result = await reports.RunReport(request)
    assert rows_of(result.tables[0]) == [
        [ANA, "T1", "EUR", "600.00", "800.00", "75.00", 2],
        [BOB, "", "EUR", "0.00", "100", "0.00", 0],
    ]
    assert result.parameters["targets"] == f"{ANA}:EUR:800.00,{BOB}:EUR:100"
    await expect_error(
        reports.RunReport(rpb.RunReportRequest(report="cash-against-target",
                                               targets=["ana:EURO:1"], **FEBRUARY)),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="targets[0]",
    )  # fmt: skip


async def test_promises_open_by_horizon_and_judged_per_collector(accounts, reports):
    """§14 with §8's worked example: 37 kept, 5 partially kept, 3 broken (2 withdrawn, not
    judged) → 82.22 %; open promises of 1 March (overdue on 2 March), 5 March (this week),
    10 March (next week), 1 April (later)."""
    await _collections_ledger(accounts.database_url)
    request = rpb.RunReportRequest(
        report="promises", period_start="2026-02-01", period_end="2026-03-02"
    )
    result = await reports.RunReport(request)
    opened, judged, broken = (rows_of(t) for t in result.tables)
    assert opened == [
        [ANA, "EUR", 1, "500.00", 1, "10.00", 1, "20.00", 1, "30.00"],
    ]
    assert judged == [[ANA, 37, 5, 3, 45, "82.22"]]
    assert broken == [[ANA, "EUR", "300.00"]]


async def test_dunning_log_counts_decisions_by_reason_and_notices_by_level(accounts, reports):
    """§15: one notice and three skips in February."""
    await _collections_ledger(accounts.database_url)
    result = await reports.RunReport(rpb.RunReportRequest(report="dunning-log", **FEBRUARY))
    decisions, notices = (rows_of(t) for t in result.tables)
    assert decisions == [
        ["CUSTOMER_FLAGGED", "EUR", 2],
        ["NOTICE", "EUR", 1],
        ["TOO_SOON", "EUR", 1],
    ]
    assert notices == [[1, "REMINDER", "EMAIL", "EUR", 1, 0, 0, "200.00"]]


async def test_write_offs_by_reason_posted_reversed_and_net(accounts, reports):
    """§16: 50.00 and 30.00 posted, the 50.00 reversed → net 30.00."""
    await _collections_ledger(accounts.database_url)
    result = await reports.RunReport(rpb.RunReportRequest(report="write-offs", **FEBRUARY))
    assert rows_of(result.tables[0]) == [
        ["SMALL_BALANCE", "Small balance", "EUR", 2, "80.00", 1, "50.00", "30.00"],
    ]


async def test_open_items_stream_page_by_page_as_csv(accounts, reports, monkeypatch):
    """§18: one row per open invoice today, read in keyset pages (two rows a page here, so three
    invoices take two pages) and exported as CSV while the rows are read."""
    from services.accounts.data import report_reads_items

    monkeypatch.setattr(report_reads_items, "PAGE_ROWS", 2)
    await _collections_ledger(accounts.database_url)
    result = await run_as(reports, rpb.RunReportRequest(report="open-items"), ANA)
    assert [row[4:] for row in rows_of(result.tables[0])] == [
        ["A1", "2026-01-01", "2026-01-15", 46, "EUR", "1000.00", "300.00"],
        ["B1", "2026-01-01", "2026-02-20", 10, "EUR", "400.00", "0.00"],
        ["C1", "2026-01-01", "2026-04-01", 0, "EUR", "250.00", "0.00"],
    ]
    parts = [
        part
        async for part in reports.ExportReport(
            rpb.ExportReportRequest(report="open-items", format=rpb.REPORT_FORMAT_CSV)
        )
    ]
    lines = b"".join(p.data for p in parts).decode().split("\r\n")
    assert lines[0] == (
        "customer_id,customer,collector,team,invoice,invoice_date,due_date,days_past_due,"
        "currency,open,in_dispute"
    )
    assert lines[1] == "A,A,user:ana,T1,A1,2026-01-01,2026-01-15,46,EUR,1000.00,300.00"
    assert len(lines) == 5  # header, three rows, the final CRLF
