"""Object-level isolation: a Sales, GBS or Legal user sees and acts on only their team's
escalations (and the cases behind them); another team's looks exactly like a missing one. The
gateway carries the team in the signed identity; the services apply common/team_scope.py."""

from __future__ import annotations

import uuid

import pytest

from common.actor import Actor
from common.team_scope import sees_team, team_scope
from tests.gateway.support import bearer, create_invoice, error_info, ok, raise_escalation

COLLECTOR, LEAD = bearer("collector"), bearer("team_lead")
SALES, LEGAL = bearer("sales", subject="sam"), bearer("legal", subject="lou")


@pytest.mark.parametrize(
    ("roles", "team", "scope"),
    [
        (("sales",), "SALES", "SALES"),
        (("legal",), "legal", "LEGAL"),
        (("sales", "gbs"), "GBS", "GBS"),
        (("sales",), "", ""),  # scoped to no team: sees nothing (the gateway refuses it anyway)
        (("sales", "team_lead"), "SALES", None),  # a broader role wins
        (("collector",), "", None),
        (("sre",), "", None),
        (("service",), "", None),
    ],
)
def test_who_is_scoped_to_a_team(roles, team, scope):
    actor = Actor("user:x", roles, team)
    assert team_scope(actor) == scope
    assert sees_team(actor, "SALES") == (scope in (None, "SALES"))


def test_a_team_role_without_a_team_is_refused(stack):
    response = stack.http.get("/v1/escalations", headers=bearer("sales", team=""))
    assert response.status_code == 403
    assert error_info(response.json())["reason"] == "TEAM_REQUIRED"


def _raise(stack, team: str) -> dict:
    return raise_escalation(stack, team, COLLECTOR)


def test_a_team_sees_only_its_escalations_and_anothers_look_missing(stack):
    sales_case, legal_case = _raise(stack, "SALES"), _raise(stack, "LEGAL")
    listed = stack.http.get("/v1/escalations", headers=SALES, params={"pageSize": 1000}).json()
    teams = {e["team"] for e in listed["escalations"]}
    assert teams == {"SALES"}
    assert sales_case["name"] in [e["name"] for e in listed["escalations"]]

    hidden = stack.http.get(f"/v1/{legal_case['name']}", headers=SALES)
    missing = stack.http.get("/v1/escalations/" + "0" * 32, headers=SALES)
    assert hidden.status_code == missing.status_code == 404
    assert error_info(hidden.json())["reason"] == error_info(missing.json())["reason"]
    claim = stack.http.post(f"/v1/{legal_case['name']}:claim", headers=SALES, json={})
    assert claim.status_code == 404

    assert stack.http.get(f"/v1/{legal_case['name']}", headers=LEGAL).status_code == 200
    everyone = stack.http.get("/v1/escalations", headers=LEAD, params={"pageSize": 1000}).json()
    assert {"SALES", "LEGAL"} <= {e["team"] for e in everyone["escalations"]}


def _open_case(stack, title: str) -> dict:
    customer = stack.http.post("/v1/customers", headers=LEAD, json={"displayName": title}).json()
    number = f"S-{uuid.uuid4().hex[:8]}"
    invoice = create_invoice(stack, customer["name"], number, "100.00", LEAD)
    return ok(
        stack.http.post(
            "/v1/disputes",
            headers=COLLECTOR,
            json={
                "customer": customer["name"],
                "title": title,
                "reasonCode": "PRICING",
                "assignee": "user:carl",
                "items": [{"invoice": invoice["name"]}],
            },
        )
    )


def test_a_team_user_does_not_see_cases_never_escalated_to_their_team(stack):
    case = _open_case(stack, "Not for Sales")
    hidden = stack.http.get(f"/v1/{case['name']}", headers=SALES)
    missing = stack.http.get("/v1/disputes/" + "0" * 32, headers=SALES)
    assert hidden.status_code == missing.status_code == 404
    assert error_info(hidden.json()) == error_info(missing.json())
    assert stack.http.get(f"/v1/{case['name']}/history", headers=SALES).status_code == 404
    for path, body in (("notes", {"text": "x"}), ("evidence", {"uri": "https://x.example"})):
        assert (
            stack.http.post(f"/v1/{case['name']}/{path}", headers=SALES, json=body).status_code
            == 404
        )
    listed = stack.http.get("/v1/disputes", headers=SALES, params={"pageSize": 1000}).json()
    assert case["name"] not in [d["name"] for d in listed.get("disputes", [])]
    assert stack.http.get(f"/v1/{case['name']}", headers=COLLECTOR).status_code == 200


def test_a_case_escalated_to_a_team_is_that_teams_and_no_one_elses(stack):
    case = _open_case(stack, "For Sales")
    other = _open_case(stack, "Still not for Sales")
    escalated = stack.http.post(
        f"/v1/{case['name']}:escalate",
        headers=COLLECTOR,
        json={"team": "SALES", "reasonCode": "PRICING_AUTHORITY", "etag": case["etag"]},
    )
    assert ok(escalated)["status"] == "PENDING_INTERNAL"

    assert ok(stack.http.get(f"/v1/{case['name']}", headers=SALES))["title"] == "For Sales"
    listed = ok(stack.http.get("/v1/disputes", headers=SALES, params={"pageSize": 1000}))
    names = [d["name"] for d in listed["disputes"]]
    assert case["name"] in names and other["name"] not in names
    note = stack.http.post(
        f"/v1/{case['name']}/notes", headers=SALES, json={"text": "price list B applies"}
    )
    assert note.status_code == 200
    assert stack.http.get(f"/v1/{case['name']}/history", headers=SALES).status_code == 200
    assert stack.http.get(f"/v1/{case['name']}", headers=LEGAL).status_code == 404
    everyone = ok(stack.http.get("/v1/disputes", headers=LEAD, params={"pageSize": 1000}))
    assert {case["name"], other["name"]} <= {d["name"] for d in everyone["disputes"]}
