"""The aging reports through the RPCs, on both databases: every figure against a hand
computation from the shared sample portfolio, bucket bounds as data, a collector's scope, and the
CSV and XLSX exports with their provenance."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import grpc

from settle.common.v1 import reports_pb2 as rpb
from tests.accounts.api.reports_support import AS_OF, as_of, open_on, rows_of
from tests.accounts.api.test_import_rpc import upload
from tests.common.reports.xlsx_reading import read_workbook
from tests.support.ar_sample import CLEAN, sample
from tests.support.rpc import as_actor, expect_error


async def test_aging_by_customer_matches_the_raw_sample(accounts, reports):
    await upload(accounts.stub, sample(CLEAN))
    result = await reports.RunReport(
        rpb.RunReportRequest(report="aging-by-customer", as_of=as_of(AS_OF))
    )
    table = result.tables[0]
    names = [c.name for c in table.columns]
    assert names == [
        "customer_id", "customer", "collector", "currency",
        "Current", "1–30", "31–60", "61–90", "91–120", "120+",
        "total", "in_dispute", "invoices",
    ]  # fmt: skip
    expected: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 6)
    for customer, due, amount in open_on(AS_OF):
        days = (AS_OF - due).days
        index = sum(days > bound for bound in (0, 30, 60, 90, 120))
        expected[customer][index] += amount
    got = {}
    for row in rows_of(table):
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
        report="aging-by-collector", as_of=as_of(AS_OF), bucket_bounds=[30, 60]
    )
    result = await reports.RunReport(request)
    columns = [c.name for c in result.tables[0].columns]
    assert columns[:6] == ["collector", "team", "currency", "0–30", "31–60", "60+"]
    (row,) = rows_of(result.tables[0])  # nobody assigned: one unassigned row
    expected = [Decimal(0)] * 3
    for _, due, amount in open_on(AS_OF):
        expected[sum((AS_OF - due).days > b for b in (30, 60))] += amount
    assert [Decimal(v) for v in row[3:6]] == expected
    await expect_error(
        reports.RunReport(rpb.RunReportRequest(report="aging-by-customer", bucket_bounds=[30, 10])),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


async def test_a_collector_sees_only_their_customers(accounts, reports):
    await upload(accounts.stub, sample(CLEAN))
    token = as_actor("user:carol", "collector")
    try:
        result = await reports.RunReport(
            rpb.RunReportRequest(report="aging-by-customer", as_of=as_of(AS_OF))
        )
    finally:
        from common import actor as actors

        actors.reset_actor(token)
    assert rows_of(result.tables[0]) == []  # nobody is assigned to carol


async def test_exports_csv_and_xlsx_with_provenance(accounts, reports, tmp_path):
    await upload(accounts.stub, sample(CLEAN))

    async def export(fmt):
        chunks = reports.ExportReport(
            rpb.ExportReportRequest(report="aging-by-customer", as_of=as_of(AS_OF), format=fmt)
        )
        parts = [part async for part in chunks]
        return parts[0].content_type, b"".join(p.data for p in parts)

    content_type, data = await export(rpb.REPORT_FORMAT_CSV)
    assert content_type == "text/csv; charset=utf-8"
    lines = data.decode().split("\r\n")
    assert lines[0].startswith("customer_id,customer,collector,currency,Current,1–30")
    assert len(lines) - 2 == len({c for c, _, _ in open_on(AS_OF)})  # header, final CRLF
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
