"""Open-item import of the shared sample files through the streaming RPC, then aging on it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import grpc

from settle.accounts.v1 import accounts_pb2 as pb
from tests.support.ar_sample import CLEAN, DIRTY, open_on, sample
from tests.support.rpc import expect_error

CHUNK = 64 * 1024


async def upload(stub, path, currency="USD") -> pb.ImportReport:
    data = path.read_bytes()

    async def parts():
        yield pb.ImportOpenItemsRequest(
            options=pb.ImportOptions(currency_code=currency, file_name=path.name)
        )
        for start in range(0, len(data), CHUNK):
            yield pb.ImportOpenItemsRequest(chunk=data[start : start + CHUNK])

    return await stub.ImportOpenItems(parts(), timeout=120)  # a long call: not the 5 s default


async def count_invoices(stub) -> int:
    total, token = 0, ""
    while True:
        page = await stub.ListInvoices(pb.ListInvoicesRequest(page_size=1000, page_token=token))
        total += len(page.invoices)
        token = page.next_page_token
        if not token:
            return total


async def test_clean_file_imports_whole_and_ages_like_the_raw_data(accounts):
    report = await upload(accounts.stub, sample(CLEAN))
    assert (report.rows_read, report.imported, report.skipped, len(report.rejected)) == (
        2466,
        2466,
        0,
        0,
    )
    assert (report.customers_created, report.payments_recorded) == (100, 2466)
    assert await count_invoices(accounts.stub) == 2466

    for day in (date(2013, 1, 31), date(2013, 6, 30), date(2013, 12, 31)):
        aging = await accounts.stub.GetAgingReport(pb.GetAgingReportRequest(as_of=day.isoformat()))
        (usd,) = aging.totals
        got = {b.bucket: Decimal(b.amount.amount) for b in usd.buckets if Decimal(b.amount.amount)}
        expected = open_on(CLEAN, day)
        assert got == expected, day
    # everything was settled by 2014-01-09
    after = await accounts.stub.GetAgingReport(pb.GetAgingReportRequest(as_of="2014-02-01"))
    assert list(after.totals) == []


async def test_reimporting_changes_nothing(accounts):
    await upload(accounts.stub, sample(CLEAN))
    again = await upload(accounts.stub, CLEAN)
    assert (again.imported, again.skipped, len(again.rejected), again.customers_created) == (
        0,
        2466,
        0,
        0,
    )
    assert await count_invoices(accounts.stub) == 2466


async def test_dirty_file_imports_good_rows_and_reports_every_bad_one(accounts):
    report = await upload(accounts.stub, sample(DIRTY))
    assert report.rows_read == 2586
    assert report.imported == 2200
    assert len(report.rejected) == 386
    assert all(r.line_number >= 2 and r.reason and r.message for r in report.rejected)
    assert {r.reason for r in report.rejected} == {"INVOICE_NUMBER_PATTERN"}
    assert await count_invoices(accounts.stub) == 2200
    # the clean file afterwards: its rows with dropped zeros are new, the rest already present
    clean = await upload(accounts.stub, CLEAN)
    assert clean.imported + clean.skipped == 2466 and len(clean.rejected) == 0
    assert clean.skipped == 2200


async def test_a_file_unreadable_at_its_end_writes_nothing(accounts, tmp_path):
    """The whole file is checked before the first chunk is written."""
    good = sample(CLEAN).read_bytes()
    broken = tmp_path / "broken.csv"
    broken.write_bytes(good + b'"' + b"x" * 200_000 + b'"\n')  # over the csv field limit
    await expect_error(upload(accounts.stub, broken), grpc.StatusCode.INVALID_ARGUMENT)
    assert await count_invoices(accounts.stub) == 0


async def test_import_without_options_or_with_bad_currency_is_refused(accounts):
    async def only_bytes():
        yield pb.ImportOpenItemsRequest(chunk=b"a,b\n")

    await expect_error(
        accounts.stub.ImportOpenItems(only_bytes()),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="options",
    )

    async def bad_currency():
        yield pb.ImportOpenItemsRequest(options=pb.ImportOptions(currency_code="XXQ"))
        yield pb.ImportOpenItemsRequest(chunk=CLEAN.read_bytes()[:2000] if CLEAN.exists() else b"x")

    await expect_error(
        accounts.stub.ImportOpenItems(bad_currency()), grpc.StatusCode.INVALID_ARGUMENT
    )

    async def wrong_header():
        yield pb.ImportOpenItemsRequest(options=pb.ImportOptions(currency_code="USD"))
        yield pb.ImportOpenItemsRequest(chunk=b"foo,bar\n1,2\n")

    await expect_error(
        accounts.stub.ImportOpenItems(wrong_header()), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert await count_invoices(accounts.stub) == 0
