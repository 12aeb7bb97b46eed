"""The accounts reports through the RPCs, on both databases: every figure against a hand
computation from the shared sample portfolio (read straight from its CSV, independently of the
import), the worked example of docs/reports.md on a ledger built for it, provenance, scope, and
the CSV and XLSX exports."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import grpc
import pytest

from common.protoconv import timestamp
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import reports_pb2_grpc
from settle.common.v1 import reports_pb2 as rpb
from settle.common.v1.common_pb2 import Money
from tests.accounts.api.test_import_rpc import upload
from tests.common.reports.xlsx_reading import read_workbook
from tests.support.ar_sample import CLEAN, sample
from tests.support.rpc import as_actor, channel, expect_error

AS_OF = date(2013, 6, 30)
PERIOD = (date(2013, 4, 1), date(2013, 6, 30))


def _us(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def _raw_rows():
    with sample(CLEAN).open(newline="") as f:
        for row in csv.DictReader(f):
            yield (
                row["customerID"],
                _us(row["InvoiceDate"]),
                _us(row["DueDate"]),
                _us(row["SettledDate"]),
                Decimal(row["InvoiceAmount"]),
            )


def _open_on(day: date):
    """(customer, due date, amount) of the invoices open at the end of `day`, by hand."""
    return [
        (c, due, amount) for c, dated, due, settled, amount in _raw_rows() if dated <= day < settled
    ]


def _round(value: Decimal, step: str) -> Decimal:
    return value.quantize(Decimal(step), rounding=ROUND_HALF_EVEN)


@pytest.fixture
async def reports(accounts):
    async with channel(accounts.address) as ch:
        yield reports_pb2_grpc.AccountsReportsServiceStub(ch)


def _as_of(day: date):
    return timestamp(datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12))


def _rows(table) -> list[list]:
    from google.protobuf.json_format import MessageToDict

    return [MessageToDict(row) for row in table.rows]


async def test_aging_by_customer_matches_the_raw_sample(accounts, reports):
    await upload(accounts.stub, sample(CLEAN))
    result = await reports.RunReport(
        rpb.RunReportRequest(report="aging-by-customer", as_of=_as_of(AS_OF))
    )
    table = result.tables[0]
    names = [c.name for c in table.columns]
    assert names == [
        "customer_id", "customer", "collector", "currency",
        "Current", "1–30", "31–60", "61–90", "91–120", "120+",
        "total", "in_dispute", "invoices",
    ]  # fmt: skip
    expected: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 6)
    for customer, due, amount in _open_on(AS_OF):
        days = (AS_OF - due).days
        index = sum(days > bound for bound in (0, 30, 60, 90, 120))
        expected[customer][index] += amount
    got = {}
    for row in _rows(table):
        assert row[3] == "USD"
        buckets = [Decimal(v) for v in row[4:10]]
        assert Decimal(row[10]) == sum(buckets)
        got[row[1]] = buckets
    assert got == dict(expected)
    assert result.formula_version == "2026.1"
    assert result.parameters == {"bucket_bounds": "0,30,60,90,120"}
    assert result.data_watermark.startswith("invoices=2466@")


async def test_bucket_bounds_are_data(accounts, reports):
    await upload(accounts.stub, sample(CLEAN))
    request = rpb.RunReportRequest(
        report="aging-by-collector", as_of=_as_of(AS_OF), bucket_bounds=[30, 60]
    )
    result = await reports.RunReport(request)
    columns = [c.name for c in result.tables[0].columns]
    assert columns[:6] == ["collector", "team", "currency", "0–30", "31–60", "60+"]
    (row,) = _rows(result.tables[0])  # nobody assigned: one unassigned row
    expected = [Decimal(0)] * 3
    for _, due, amount in _open_on(AS_OF):
        expected[sum((AS_OF - due).days > b for b in (30, 60))] += amount
    assert [Decimal(v) for v in row[3:6]] == expected
    await expect_error(
        reports.RunReport(rpb.RunReportRequest(report="aging-by-customer", bucket_bounds=[30, 10])),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


async def test_dso_cei_and_over_90_match_a_hand_computation(accounts, reports):
    await upload(accounts.stub, sample(CLEAN))
    start, end = PERIOD
    days = (end - start).days + 1
    closing = _open_on(end)
    ar = sum(a for _, _, a in closing)
    current = sum(a for _, due, a in closing if due >= end)
    over_90 = sum(a for _, due, a in closing if due < end - timedelta(days=90))
    opening = sum(a for _, _, a in _open_on(start - timedelta(days=1)))
    sales = sum(a for _, dated, _, _, a in _raw_rows() if start <= dated <= end)
    period = {"period_start": start.isoformat(), "period_end": end.isoformat()}

    dso = await reports.RunReport(rpb.RunReportRequest(report="dso", **period))
    (row,) = _rows(dso.tables[0])
    simple = _round(ar / sales * days, "0.1")
    best = _round(current / sales * days, "0.1")
    assert row[:7] == ["USD", "2013-04-01", "2013-06-30", days, str(ar), str(current), str(sales)]
    assert [Decimal(v) for v in row[8:]] == [simple, best, simple - best]
    # Countback by hand: June, May, April... newest first, whole months.
    monthly: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for _, dated, _, _, amount in _raw_rows():
        monthly[(dated.year, dated.month)] += amount
    remaining, counted = ar, Decimal(0)
    for month, month_days in (((2013, 6), 30), ((2013, 5), 31), ((2013, 4), 30), ((2013, 3), 31)):
        take = min(remaining, monthly[month])
        counted += take / monthly[month] * month_days
        remaining -= take
    assert remaining == 0
    assert Decimal(row[7]) == _round(counted, "0.1")
    assert dso.as_of.ToDatetime(UTC) == datetime(2013, 7, 1, tzinfo=UTC)

    cei = await reports.RunReport(rpb.RunReportRequest(report="cei", **period))
    (row,) = _rows(cei.tables[0])
    expected_cei = _round((opening + sales - ar) / (opening + sales - current) * 100, "0.01")
    assert [Decimal(v) for v in row[3:]] == [opening, sales, ar, current, expected_cei]

    share = await reports.RunReport(rpb.RunReportRequest(report="ar-over-90", as_of=_as_of(end)))
    (row,) = _rows(share.tables[0])
    assert [Decimal(v) for v in row[2:]] == [ar, over_90, _round(over_90 / ar * 100, "0.01")]


async def test_the_worked_example_of_the_docs_through_the_ledger(accounts, reports):
    """docs/reports.md §3–§7 on a ledger made for it: AR 212,000 of which 120,000 current and
    31,750 over 90 days; credit sales 250,000 in a 90-day quarter; opening AR 200,000."""
    stub = accounts.stub
    customer = (
        await stub.CreateCustomer(
            pb.CreateCustomerRequest(
                customer=pb.Customer(display_name="Doc", external_ref="doc", currency_code="EUR")
            )
        )
    ).name

    async def invoice(number, dated, due, amount):
        made = await stub.CreateInvoice(
            pb.CreateInvoiceRequest(
                invoice=pb.Invoice(
                    customer=customer,
                    external_number=number,
                    invoice_date=dated,
                    due_date=due,
                    amount=Money(currency_code="EUR", amount=amount),
                )
            )
        )
        return made.name

    # Opening AR on 2025-12-31: 200,000, all paid in the quarter except 31,750 (over 90 at the
    # end) and 60,250 (past due, under 90).
    old = await invoice("OLD-1", "2025-10-01", "2025-10-31", "168250.00")
    await invoice("OLD-2", "2025-10-01", "2025-10-31", "31750.00")
    # Quarter: credit sales 250,000; 120,000 not yet due at its end; 60,250 past due, unpaid.
    paid = await invoice("Q-1", "2026-01-05", "2026-02-04", "69750.00")
    await invoice("Q-2", "2026-02-01", "2026-03-03", "60250.00")
    await invoice("Q-3", "2026-03-20", "2026-04-19", "120000.00")
    for name, amount in ((old, "168250.00"), (paid, "69750.00")):
        payment = await stub.CreatePayment(
            pb.CreatePaymentRequest(
                payment=pb.Payment(
                    customer=customer,
                    amount=Money(currency_code="EUR", amount=amount),
                    received_date="2026-03-01",
                )
            )
        )
        await stub.AllocateFunds(
            pb.AllocateFundsRequest(
                source=payment.name,
                allocations=[
                    pb.Allocation(invoice=name, amount=Money(currency_code="EUR", amount=amount))
                ],
            )
        )
    period = {"period_start": "2026-01-01", "period_end": "2026-03-31"}
    (dso,) = _rows(
        (await reports.RunReport(rpb.RunReportRequest(report="dso", **period))).tables[0]
    )
    assert dso[3:7] == [90, "212000.00", "120000.00", "250000.00"]
    assert dso[8:] == ["76.3", "43.2", "33.1"]  # §3, §4, §5
    (cei,) = _rows(
        (await reports.RunReport(rpb.RunReportRequest(report="cei", **period))).tables[0]
    )
    assert cei[3:] == ["200000.00", "250000.00", "212000.00", "120000.00", "72.12"]  # §6
    share = await reports.RunReport(
        rpb.RunReportRequest(report="ar-over-90", as_of=_as_of(date(2026, 3, 31)))
    )
    assert _rows(share.tables[0])[0][2:] == ["212000.00", "31750.00", "14.98"]  # §7


async def test_a_collector_sees_only_their_customers(accounts, reports):
    await upload(accounts.stub, sample(CLEAN))
    token = as_actor("user:carol", "collector")
    try:
        result = await reports.RunReport(
            rpb.RunReportRequest(report="aging-by-customer", as_of=_as_of(AS_OF))
        )
    finally:
        from common import actor as actors

        actors.reset_actor(token)
    assert _rows(result.tables[0]) == []  # nobody is assigned to carol


async def test_exports_csv_and_xlsx_with_provenance(accounts, reports, tmp_path):
    await upload(accounts.stub, sample(CLEAN))

    async def export(fmt):
        chunks = reports.ExportReport(
            rpb.ExportReportRequest(report="aging-by-customer", as_of=_as_of(AS_OF), format=fmt)
        )
        parts = [part async for part in chunks]
        return parts[0].content_type, b"".join(p.data for p in parts)

    content_type, data = await export(rpb.REPORT_FORMAT_CSV)
    assert content_type == "text/csv; charset=utf-8"
    lines = data.decode().split("\r\n")
    assert lines[0].startswith("customer_id,customer,collector,currency,Current,1–30")
    assert len(lines) - 2 == len({c for c, _, _ in _open_on(AS_OF)})  # header, final CRLF
    content_type, data = await export(rpb.REPORT_FORMAT_XLSX)
    assert content_type.endswith("spreadsheetml.sheet")
    (tmp_path / "aging.xlsx").write_bytes(data)
    sheets = read_workbook(tmp_path / "aging.xlsx")
    assert [s.name for s in sheets] == ["Aging by customer", "Parameters"]
    cells = sheets[1].cells
    parameters = {cells[f"A{r}"].value: cells[f"B{r}"].value for r in range(2, 7)}
    parameters.update({cells["A7"].value: cells["B7"].value})
    assert parameters["formula_version"] == "2026.1"
    assert parameters["parameter.bucket_bounds"] == "0,30,60,90,120"
    await expect_error(
        reports.ExportReport(rpb.ExportReportRequest(report="dso")).read(),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="format",
    )


# --- the collections reports (docs/reports.md §12–§16), on a ledger written for them -----------

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


async def _run_as(reports, request, subject=ANA, role="collector"):
    from common import actor as actors

    token = as_actor(subject, role)
    try:
        return await reports.RunReport(request)
    finally:
        actors.reset_actor(token)


async def test_collectible_aging_splits_open_into_dispute_promised_legal_blocked_dunnable(
    accounts, reports
):
    """§12: open = in dispute + promised + in legal + blocked + dunnable, per bucket."""
    await _collections_ledger(accounts.database_url)
    result = await _run_as(reports, rpb.RunReportRequest(report="aging-collectible"))
    assert [c.name for c in result.tables[0].columns][3:] == [
        "bucket", "open", "in_dispute", "promised", "in_legal", "blocked", "dunnable", "invoices"
    ]  # fmt: skip
    assert _rows(result.tables[0]) == [
        [ANA, "T1", "EUR", "Current", "250.00", "0.00", "0.00", "0.00", "250.00", "0.00", 1],
        [ANA, "T1", "EUR", "1–30", "400.00", "0.00", "0.00", "400.00", "0.00", "0.00", 1],
        [ANA, "T1", "EUR", "31–60", "1000.00", "300.00", "500.00", "0.00", "0.00", "200.00", 1],
    ]
    others = await _run_as(reports, rpb.RunReportRequest(report="aging-collectible"), BOB)
    assert _rows(others.tables[0]) == []
    await expect_error(
        reports.RunReport(rpb.RunReportRequest(report="aging-collectible", as_of=_as_of(AS_OF))),
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
    assert _rows(result.tables[0]) == [
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
    opened, judged, broken = (_rows(t) for t in result.tables)
    assert opened == [
        [ANA, "EUR", 1, "500.00", 1, "10.00", 1, "20.00", 1, "30.00"],
    ]
    assert judged == [[ANA, 37, 5, 3, 45, "82.22"]]
    assert broken == [[ANA, "EUR", "300.00"]]


async def test_dunning_log_counts_decisions_by_reason_and_notices_by_level(accounts, reports):
    """§15: one notice and three skips in February."""
    await _collections_ledger(accounts.database_url)
    result = await reports.RunReport(rpb.RunReportRequest(report="dunning-log", **FEBRUARY))
    decisions, notices = (_rows(t) for t in result.tables)
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
    assert _rows(result.tables[0]) == [
        ["SMALL_BALANCE", "Small balance", "EUR", 2, "80.00", 1, "50.00", "30.00"],
    ]


async def test_open_items_stream_page_by_page_as_csv(accounts, reports, monkeypatch):
    """§18: one row per open invoice today, read in keyset pages (two rows a page here, so three
    invoices take two pages) and exported as CSV while the rows are read."""
    from services.accounts.data import report_reads_items

    monkeypatch.setattr(report_reads_items, "PAGE_ROWS", 2)
    await _collections_ledger(accounts.database_url)
    result = await _run_as(reports, rpb.RunReportRequest(report="open-items"))
    assert [row[4:] for row in _rows(result.tables[0])] == [
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
