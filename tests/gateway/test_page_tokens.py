"""Page tokens over HTTP against the real services: each service's lists hand out signed tokens
that only the query which made them accepts. A token of another filter, an altered one, or a
forged one of the old unsigned form (offset 1e400 or 10**18) is 400 naming page_token, never a
500 nor a jump to an offset of the caller's choosing (issue 17 defect 3)."""

from __future__ import annotations

import base64
import json

import pytest

from tests.gateway.support import bearer, error_info, ok, raise_escalation

ADMIN = bearer(("admin", "team_lead", "collector"), subject="pager")
# Per service: a list, two filters matching at least two items each, and what creates them.
LISTS = {
    "accounts": ("/v1/customers", "country_code=DE", "credit_hold=false"),
    "disputes": ("/v1/reasonCodes", "active=true", 'code!="NONE"'),
    "escalation": ("/v1/escalations", 'team="SALES"', "severity=HIGH"),
}


def _seed(stack, service: str) -> None:
    if service == "accounts":
        for n in range(2):
            ok(
                stack.http.post(
                    "/v1/customers",
                    headers=ADMIN,
                    json={"displayName": f"Pager {n}", "countryCode": "DE"},
                )
            )
    elif service == "escalation":
        for _ in range(2):
            raise_escalation(stack, "SALES", ADMIN)


def _forged(offset) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": "x"}).encode()).decode()


def _refused(response) -> None:
    assert response.status_code == 400, (response.status_code, response.text[:300])
    violations = [d for d in response.json()["error"]["details"] if "fieldViolations" in d]
    assert violations[0]["fieldViolations"][0]["field"] == "page_token"
    assert error_info(response.json())["reason"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize("service", sorted(LISTS))
def test_a_page_token_works_only_for_its_own_query(stack, service):
    path, own, other = LISTS[service]
    _seed(stack, service)
    first = ok(stack.http.get(path, headers=ADMIN, params={"pageSize": 1, "filter": own}))
    token = first["nextPageToken"]
    assert token and "{" not in base64.urlsafe_b64decode(token + "==").decode("latin-1")
    second = stack.http.get(
        path, headers=ADMIN, params={"pageSize": 1, "filter": own, "pageToken": token}
    )
    assert second.status_code == 200, second.text
    _refused(
        stack.http.get(
            path, headers=ADMIN, params={"pageSize": 1, "filter": other, "pageToken": token}
        )
    )
    for forged in (
        _forged("1e400"),
        _forged(10**18),
        token[:-1] + ("A" if token[-1] != "A" else "B"),
    ):
        _refused(
            stack.http.get(
                path, headers=ADMIN, params={"pageSize": 1, "filter": own, "pageToken": forged}
            )
        )
