"""README's "A collector's day with curl", call for call, through the real gateway and services:
a team lead assigns a customer, the collector's worklist explains itself, a call with a promise
to pay takes the customer off the list, the timeline shows it, and paying in full keeps the
promise at once."""

from __future__ import annotations

from datetime import date, timedelta

from common.settings import PROJECT_ROOT
from tests.gateway.support import bearer, ok

CARL = bearer("collector", subject="carl")
LENA = bearer("team_lead", team="DACH", subject="lena")
README = (PROJECT_ROOT / "README.md").read_text()


def eur(amount: str) -> dict[str, str]:
    return {"currencyCode": "EUR", "amount": amount}


def test_the_collectors_day_of_the_readme(stack):
    http = stack.http
    customer = ok(
        http.post(
            "/v1/customers",
            headers=LENA,
            json={
                "displayName": "Brix AG",
                "countryCode": "DE",
                "currencyCode": "EUR",
                "timeZone": "Europe/Berlin",
            },
        )
    )["name"]
    invoice = ok(
        http.post(
            "/v1/invoices",
            headers=LENA,
            json={
                "customer": customer,
                "externalNumber": "BRX-1",
                "invoiceDate": "2026-01-05",
                "dueDate": "2026-02-04",
                "amount": eur("2500.00"),
            },
        )
    )["name"]
    moved = ok(
        http.post(
            "/v1/customers:bulkReassign",
            headers=LENA,
            json={"customers": [customer], "collector": "user:carl"},
        )
    )
    assert moved["reassigned"] == 1

    (item,) = ok(http.get("/v1/worklist", headers=CARL))["items"]
    assert item["customer"] == customer and item["amountToCollect"] == eur("2500.00")
    assert item["score"] == sum(c["points"] for c in item["contributions"]) > 0
    assert item["nextAction"] and item["reason"]

    logged = ok(
        http.post(
            f"/v1/{customer}/interactions",
            headers=CARL,
            json={
                "requestId": "call-1",
                "interaction": {
                    "channel": "PHONE",
                    "direction": "OUTBOUND",
                    "contactText": "accounts payable",
                    "outcomeCode": "PROMISE_TO_PAY",
                    "durationSeconds": 240,
                },
                "promisePlan": {
                    "promise": {
                        "amount": eur("1000.00"),
                        "promisedDate": (date.today() + timedelta(days=7)).isoformat(),
                        "invoices": [invoice],
                    }
                },
            },
        )
    )
    (promise,) = logged["promises"]

    after = ok(http.get("/v1/worklist", headers=CARL))
    assert after.get("items", []) == [] and after["doneToday"] == 1

    timeline = ok(http.get(f"/v1/{customer}/timeline", headers=CARL))["entries"]
    kinds = {entry["kind"] for entry in timeline}
    assert {"INTERACTION", "PROMISE"} <= kinds, kinds

    payment = ok(
        http.post(
            "/v1/payments",
            headers=LENA,
            json={
                "customer": customer,
                "amount": eur("1000.00"),
                "receivedDate": date.today().isoformat(),
            },
        )
    )["name"]
    ok(
        http.post(
            "/v1/allocations",
            headers=LENA,
            json={
                "source": payment,
                "allocations": [{"invoice": invoice, "amount": eur("1000.00")}],
            },
        )
    )
    assert ok(http.get(f"/v1/{promise}", headers=CARL))["state"] == "KEPT"


def test_the_readme_shows_the_calls_this_test_makes():
    section = README.split("## A collector's day with curl", 1)[1].split("\n## ", 1)[0]
    for call in (
        "/v1/customers:bulkReassign",
        "/v1/worklist",
        '"outcomeCode": "PROMISE_TO_PAY"',
        '"requestId": "call-1"',
        "/timeline",
        "/v1/allocations",
        "# KEPT",
        "tests/gateway/test_collector_session.py",
    ):
        assert call in section, call
