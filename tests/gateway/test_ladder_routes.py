"""The dunning ladder's routes through the gateway and the real accounts service: a team lead
stores a version as JSON (request id honoured), everyone reads them, a collector may not store
one. The version is effective far ahead, so the module's other tests keep the seed ladder."""

from __future__ import annotations

from tests.gateway.support import bearer, ok

LEAD, COLLECTOR = bearer("team_lead", subject="lena"), bearer("collector", subject="carl")
VERSION = {
    "effectiveFrom": "2099-01-01",
    "levels": [
        {"number": 1, "code": "NUDGE", "offsetDays": 2, "channel": "EMAIL",
         "templateId": "friendly", "minDaysBetween": 5, "actions": ["NOTICE"],
         "tolerances": [{"currencyCode": "EUR", "amount": "5.00"}]},
        {"number": 2, "code": "TO_LEGAL", "offsetDays": 60, "channel": "LETTER",
         "templateId": "legal", "minDaysBetween": 10, "actions": ["NOTICE", "ESCALATE_LEGAL"]},
    ],
}  # fmt: skip


def test_a_team_lead_stores_a_ladder_version_and_everyone_reads_it(stack):
    http = stack.http
    path = "/v1/dunningLadders/default/versions"
    refused = http.post(path, headers=COLLECTOR, json=VERSION)
    assert refused.status_code == 403
    created = ok(http.post(path, headers=LEAD, params={"requestId": "ladder-1"}, json=VERSION))
    assert created["name"].startswith("dunningLadders/default/versions/")
    assert [lv["code"] for lv in created["levels"]] == ["NUDGE", "TO_LEGAL"]
    assert created["creator"] == "user:lena" and created["createTime"]  # who stored it, when
    again = ok(http.post(path, headers=LEAD, params={"requestId": "ladder-1"}, json=VERSION))
    assert again == created
    listed = ok(http.get(path, headers=COLLECTOR))
    assert listed["ladderVersions"][0] == created
    assert ok(http.get(f"/v1/{created['name']}", headers=COLLECTOR)) == created
    invalid = http.post(path, headers=LEAD, json={**VERSION, "levels": []})
    assert invalid.status_code == 400
