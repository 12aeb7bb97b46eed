"""Input bounds at the edge of every list: an oversized filter is the caller's mistake (400 with a
field violation on `filter`), never an outage (503) or a database error."""

from __future__ import annotations

import pytest

from common.listing import MAX_FILTER_CHARS, MAX_FILTER_TERMS
from tests.gateway.support import bearer

LEAD = bearer("team_lead", subject="lena")


def _violations(body: dict) -> list[dict]:
    details = body["error"]["details"]
    return [v for d in details for v in d.get("fieldViolations", [])]


# A list of each service and a field it filters on (a valid term, repeated).
LISTS = {"/v1/customers": "external_ref", "/v1/disputes": "assignee", "/v1/escalations": "subject"}
OVERSIZED = {
    "thousand-terms": lambda f: " AND ".join([f"{f}=x"] * 1000),  # the report's case
    "one-term-too-many": lambda f: " AND ".join([f"{f}=x"] * (MAX_FILTER_TERMS + 1)),
    "too-long": lambda f: f"{f}=" + "x" * MAX_FILTER_CHARS,
}


@pytest.mark.parametrize("make", OVERSIZED.values(), ids=OVERSIZED.keys())
@pytest.mark.parametrize("path", LISTS)
def test_an_oversized_filter_is_a_400_on_filter(stack, path, make):
    filter_text = make(LISTS[path])
    response = stack.http.get(path, headers=LEAD, params={"filter": filter_text})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert [v["field"] for v in _violations(response.json())] == ["filter"]


@pytest.mark.parametrize("path", LISTS)
def test_a_filter_at_the_bound_is_served(stack, path):
    text = " AND ".join([f"{LISTS[path]}=x"] * MAX_FILTER_TERMS)
    response = stack.http.get(path, headers=LEAD, params={"filter": text})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("amount", [" 12.00", "12.00 ", "+5.00", "\t12.00"])
def test_money_text_is_exact_at_the_api(stack, amount):
    customer = stack.http.post(
        "/v1/customers",
        headers=LEAD,
        json={"displayName": "Exact", "countryCode": "DE", "currencyCode": "EUR"},
    ).json()
    response = stack.http.post(
        "/v1/invoices",
        headers=LEAD,
        json={
            "customer": customer["name"],
            "externalNumber": f"INV-{amount.strip()}-{len(amount)}",
            "invoiceDate": "2026-01-05",
            "dueDate": "2026-02-04",
            "amount": {"currencyCode": "EUR", "amount": amount},
        },
    )
    assert response.status_code == 400, response.text
    assert [v["field"] for v in _violations(response.json())] == ["invoice.amount.amount"]
