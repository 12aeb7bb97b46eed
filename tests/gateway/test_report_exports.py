"""Reports through the gateway over HTTP: JSON, and CSV and XLSX files passed through as the
service wrote them (google.api.HttpBody), with the formula-injection escape end to end — a
customer named "=HYPERLINK(...)" comes out as literal text in both files, and as itself in JSON."""

from __future__ import annotations

from tests.common.reports.xlsx_reading import read_workbook
from tests.gateway.support import bearer

EVIL = '=HYPERLINK("http://evil.example","pay here")'
AGING = "/v1/reports/accounts/aging-by-customer"
AS_OF = {"asOf": "2026-03-31T12:00:00Z"}
LEAD = bearer("team_lead")


def _portfolio(stack) -> None:
    customer = stack.http.post(
        "/v1/customers",
        headers=LEAD,
        json={"displayName": EVIL, "externalRef": "inj-1", "currencyCode": "EUR"},
    )
    assert customer.status_code == 200, customer.text
    invoice = stack.http.post(
        "/v1/invoices",
        headers=bearer("specialist"),
        json={
            "customer": customer.json()["name"],
            "externalNumber": "INJ-1",
            "invoiceDate": "2026-01-02",
            "dueDate": "2026-02-01",
            "amount": {"currencyCode": "EUR", "amount": "100.00"},
        },
    )
    assert invoice.status_code == 200, invoice.text


def test_json_csv_and_xlsx_through_the_gateway_escape_formulas(stack, tmp_path):
    _portfolio(stack)
    as_json = stack.http.get(AGING + ":run", params=AS_OF, headers=LEAD)
    assert as_json.status_code == 200, as_json.text
    result = as_json.json()
    assert result["formulaVersion"] == "2026.1" and result["dataWatermark"].startswith(
        "invoices=1@"
    )
    (row,) = result["tables"][0]["rows"]
    # 59 days past due on 31 March: the 31–60 bucket.
    assert row[1] == EVIL and row[3:10] == ["EUR", "0.00", "0.00", "100.00", "0.00", "0.00", "0.00"]

    csv = stack.http.get(
        AGING + ":export", params={**AS_OF, "format": "REPORT_FORMAT_CSV"}, headers=LEAD
    )
    assert csv.status_code == 200 and csv.headers["content-type"] == "text/csv; charset=utf-8"
    header, line, end = csv.content.decode("utf-8").split("\r\n")
    assert header.startswith("customer_id,customer,collector,currency,Current,1–30,31–60")
    assert line.split(",", 1)[1].startswith('"\'=HYPERLINK(""http://evil.example"",""pay here"")",')
    assert end == ""

    xlsx = stack.http.get(
        AGING + ":export", params={**AS_OF, "format": "REPORT_FORMAT_XLSX"}, headers=LEAD
    )
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].endswith("spreadsheetml.sheet")
    (tmp_path / "aging.xlsx").write_bytes(xlsx.content)
    sheet = read_workbook(tmp_path / "aging.xlsx")[0]
    assert sheet.cells["B2"].value == "'" + EVIL
    assert sheet.cells["G2"].value == 100.0 and sheet.cells["G2"].number_format == '#,##0.00 "EUR"'


def test_a_refused_export_is_a_json_error_not_a_file(stack):
    missing = stack.http.get(AGING + ":export", params=AS_OF, headers=LEAD)
    assert missing.status_code == 400
    assert missing.json()["error"]["status"] == "INVALID_ARGUMENT"
    unknown = stack.http.get(
        "/v1/reports/accounts/nothing:export", params={"format": "REPORT_FORMAT_CSV"}, headers=LEAD
    )
    assert unknown.status_code == 404
