"""Issue 14's Legal hand-over, end to end: every process started as `make run` starts them. A
collector sets `bankruptcy` on a customer through the gateway; the accounts outbox delivers the
hand-over to the escalation service, where it waits in LEGAL's queue for a Legal user; a dunning
run afterwards sends the customer nothing (flagged), and Legal sees the account's case."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from tests.e2e.test_breach_is_traceable import call, eventually, token
from tests.support.stack import full_stack

pytestmark = pytest.mark.e2e
CONTACT = {"name": "Ann Payable", "email": "ann@acme.example", "language": "en"}


async def test_bankruptcy_reaches_legals_queue_and_stops_dunning(tmp_path):
    async with (
        full_stack(tmp_path) as stack,
        httpx.AsyncClient(base_url=stack.http, timeout=10) as client,
    ):
        collector = token(["collector"], subject="collector-7")
        billing, lead = token(["specialist"], subject="specialist-3"), token(["team_lead"])
        legal = token(["legal"], team="LEGAL", subject="lea")
        customer = await call(
            client, "POST", "/v1/customers", billing,
            json={"displayName": "Acme GmbH", "currencyCode": "EUR", "contacts": [CONTACT]},
        )  # fmt: skip
        due = date.today() - timedelta(days=20)  # overdue: a run would send a reminder
        await call(
            client, "POST", "/v1/invoices", billing,
            json={"customer": customer["name"], "externalNumber": "E2E-L1",
                  "invoiceDate": (due - timedelta(days=30)).isoformat(),
                  "dueDate": due.isoformat(),
                  "amount": {"currencyCode": "EUR", "amount": "800.00"}},
        )  # fmt: skip
        flagged = await call(
            client, "PATCH", f"/v1/{customer['name']}", collector,
            params={"updateMask": "bankruptcy"},
            json={"etag": customer["etag"], "bankruptcy": True},
        )  # fmt: skip
        assert flagged["bankruptcy"] and flagged["dunningBlock"]

        async def in_legals_queue():
            found = await call(
                client, "GET", "/v1/escalations", legal,
                params={"filter": f'subject="{customer["name"]}"'},
            )  # fmt: skip
            return found.get("escalations")

        (escalation,) = await eventually(in_legals_queue, within=20)
        assert escalation["team"] == "LEGAL" and escalation["reasonCode"] == "LEGAL_HANDOVER"
        assert escalation["state"] == "OPEN"
        # a Sales user does not see it: it is Legal's
        sales = token(["sales"], team="SALES", subject="sam")
        hidden = await call(
            client, "GET", "/v1/escalations", sales,
            params={"filter": f'subject="{customer["name"]}"'},
        )  # fmt: skip
        assert not hidden.get("escalations")

        run = await call(
            client, "POST", "/v1/dunningRuns", lead, json={"customers": [customer["name"]]}
        )
        assert run.get("notices", 0) == 0
        assert [d["outcome"] for d in run["decisions"]] == ["CUSTOMER_FLAGGED"]
        notices = await call(client, "GET", f"/v1/{customer['name']}/notices", collector)
        assert not notices.get("notices")
        cases = await call(
            client, "GET", "/v1/legalCases", legal, params={"customer": customer["name"]}
        )
        (case,) = cases["legalCases"]
        assert case["customer"] == customer["name"]
