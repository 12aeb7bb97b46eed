"""The KPI reports (DSO, best possible DSO, countback DSO, CEI, share over 90 days) through the
RPCs, on both databases: against a hand computation from the shared sample portfolio, and the
worked example of docs/reports.md §3–§7 on a ledger built for it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from settle.accounts.v1 import accounts_pb2 as pb
from settle.common.v1 import reports_pb2 as rpb
from settle.common.v1.common_pb2 import Money
from tests.accounts.api.reports_support import PERIOD, as_of, open_on, raw_rows, round_to, rows_of
from tests.accounts.api.test_import_rpc import upload
from tests.support.ar_sample import CLEAN, sample


async def test_dso_cei_and_over_90_match_a_hand_computation(accounts, reports):
    await upload(accounts.stub, sample(CLEAN))
    start, end = PERIOD
    days = (end - start).days + 1
    closing = open_on(end)
    ar = sum(a for _, _, a in closing)
    current = sum(a for _, due, a in closing if due >= end)
    over_90 = sum(a for _, due, a in closing if due < end - timedelta(days=90))
    opening = sum(a for _, _, a in open_on(start - timedelta(days=1)))
    sales = sum(a for _, dated, _, _, a in raw_rows() if start <= dated <= end)
    period = {"period_start": start.isoformat(), "period_end": end.isoformat()}

    dso = await reports.RunReport(rpb.RunReportRequest(report="dso", **period))
    (row,) = rows_of(dso.tables[0])
    simple = round_to(ar / sales * days, "0.1")
    best = round_to(current / sales * days, "0.1")
    assert row[:7] == ["USD", "2013-04-01", "2013-06-30", days, str(ar), str(current), str(sales)]
    assert [Decimal(v) for v in row[8:]] == [simple, best, simple - best]
    # Countback by hand: June, May, April... newest first, whole months.
    monthly: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for _, dated, _, _, amount in raw_rows():
        monthly[(dated.year, dated.month)] += amount
    remaining, counted = ar, Decimal(0)
    for month, month_days in (((2013, 6), 30), ((2013, 5), 31), ((2013, 4), 30), ((2013, 3), 31)):
        take = min(remaining, monthly[month])
        counted += take / monthly[month] * month_days
        remaining -= take
    assert remaining == 0
    assert Decimal(row[7]) == round_to(counted, "0.1")
    assert dso.as_of.ToDatetime(UTC) == datetime(2013, 7, 1, tzinfo=UTC)

    cei = await reports.RunReport(rpb.RunReportRequest(report="cei", **period))
    (row,) = rows_of(cei.tables[0])
    expected_cei = round_to((opening + sales - ar) / (opening + sales - current) * 100, "0.01")
    assert [Decimal(v) for v in row[3:]] == [opening, sales, ar, current, expected_cei]

    share = await reports.RunReport(rpb.RunReportRequest(report="ar-over-90", as_of=as_of(end)))
    (row,) = rows_of(share.tables[0])
    assert [Decimal(v) for v in row[2:]] == [ar, over_90, round_to(over_90 / ar * 100, "0.01")]


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
    (dso,) = rows_of(
        (await reports.RunReport(rpb.RunReportRequest(report="dso", **period))).tables[0]
    )
    assert dso[3:7] == [90, "212000.00", "120000.00", "250000.00"]
    assert dso[8:] == ["76.3", "43.2", "33.1"]  # §3, §4, §5
    (cei,) = rows_of(
        (await reports.RunReport(rpb.RunReportRequest(report="cei", **period))).tables[0]
    )
    assert cei[3:] == ["200000.00", "250000.00", "212000.00", "120000.00", "72.12"]  # §6
    share = await reports.RunReport(
        rpb.RunReportRequest(report="ar-over-90", as_of=as_of(date(2026, 3, 31)))
    )
    assert rows_of(share.tables[0])[0][2:] == ["212000.00", "31750.00", "14.98"]  # §7
