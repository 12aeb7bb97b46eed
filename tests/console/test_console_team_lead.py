"""The team lead's and SRE's screens in a real headless Chromium, and a write-off requested,
approved and its reports downloaded."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.console.browser import inspect
from tests.console.conftest import System, token
from tests.console.console_support import (
    LEAD,
    eventually,
    seed_breached_case,
    seed_customer,
    signed_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_team_lead_and_sre_screens(system: System, browser: Browser, one_second_sla: None):
    seeded = await seed_customer(system, "Lead Test GmbH", "erin", "300.00")
    lead = await signed_in(browser, system, "team_lead", "lena")
    await lead.goto(f"{system.console}/team?collector=user:erin")
    await expect(lead.locator("table")).to_contain_text("Lead Test GmbH")
    await inspect(lead, "8-team-lead")
    await lead.locator("input[name=customers]").first.check()
    await lead.fill("#collector", "user:fred")
    await lead.click("button:has-text('Reassign')")
    await expect(lead.locator(".notice")).to_have_text("Customers reassigned.")
    fred = await system.call("GET", "/v1/worklist", token("collector", "fred"))
    assert [i["customer"] for i in fred["items"]] == [seeded["customer"]["name"]]

    # An escalation about a malformed case name: disputes refuses its RecordEscalation for good
    # (INVALID_ARGUMENT), so escalation's outbox parks the event for a person.
    await system.call(
        "POST",
        "/v1/escalations:raise",
        token("collector", "erin"),
        json={"subject": "disputes/not.a.case", "team": "SALES", "reasonCode": "PRICING_AUTHORITY"},
    )
    breached = (await seed_breached_case(system, "Breach Bau GmbH", "olga"))["case"]["name"]
    sre = await signed_in(browser, system, "sre", "sid")
    await expect(sre).to_have_url(f"{system.console}/sre")
    await expect(sre.locator("#compliance-h + table")).to_contain_text("ACKNOWLEDGE")
    await expect(sre.locator("#outbox-h + table")).to_contain_text("escalation")
    weeks = await sre.locator("#compliance-h + table tbody td:first-child").all_inner_texts()
    assert len(set(weeks)) == 4, weeks  # a row (or several, per clock) for each of 4 weeks

    async def parked() -> bool:
        await sre.goto(f"{system.console}/sre")
        return await sre.locator("tr[data-event]", has_text="disputes/not.a.case").count() > 0

    assert await eventually(parked), "the refused event was never parked"
    await inspect(sre, "9-sre")
    event = sre.locator("tr[data-event]", has_text="disputes/not.a.case")
    await event.locator("button:has-text('Retry')").click()
    await expect(sre.locator(".notice")).to_have_text("The event is queued for delivery again.")
    assert await eventually(parked), "the retried event was not parked again"
    await event.locator("input[name=reason]").fill("no such case: raised by hand by mistake")
    await event.locator("button:has-text('Discard')").click()
    await expect(sre.locator(".notice")).to_have_text("The event is discarded: kept, never sent.")
    await expect(sre.locator("tr[data-event]", has_text="disputes/not.a.case")).to_have_count(0)
    sre_token = token("sre", "sid")
    actions = await system.call("GET", "/v1/outboxes/escalation/actions", sre_token)
    assert [a["kind"] for a in actions["actions"]][:2] == ["DISCARD", "RETRY"]

    await sre.goto(f"{system.console}/sre")
    case_row = sre.locator(f"#breached-h + table tr:has(a[href='/{breached}'])")
    await case_row.locator("a:has-text('Clock history')").click()
    await expect(sre.locator("#clock-history-h + table")).to_contain_text("Breached")
    await expect(sre.locator("#trace-h")).to_be_visible()
    assert breached in sre.url


async def test_a_write_off_requested_and_approved_and_reports_downloaded(
    system: System, browser: Browser
):
    seeded = await seed_customer(system, "Small Balance KG", "hank", "45.00")
    customer = seeded["customer"]["name"]
    collector = await signed_in(browser, system, "collector", "hank")
    await collector.goto(f"{system.console}/{customer}/writeoff")
    await collector.locator("input[name=invoices]").first.check()
    await collector.locator("#reason option").nth(1).wait_for(state="attached")
    reason = await collector.locator("#reason option").nth(1).get_attribute("value")
    await collector.select_option("#reason", reason)
    await collector.click("button:has-text('Submit for approval')")
    await expect(collector.locator(".notice")).to_have_text("Write-off submitted for approval.")
    await expect(collector.locator(".tabs a[aria-current=page]")).to_have_text("Write-offs")
    await expect(collector.locator("section table")).to_contain_text("Pending approval")
    statement = await collector.request.get(f"{system.console}/{customer}/statement?format=csv")
    assert statement.status == 200 and "text/csv" in statement.headers["content-type"]

    lead = await signed_in(browser, system, "team_lead", "lena")
    await lead.goto(f"{system.console}/approvals")
    row = lead.locator("tr", has_text="EUR 45.00")
    await expect(row).to_contain_text("user:hank")
    await inspect(lead, "10-approvals")
    await row.locator("button:has-text('Approve')").click()
    await expect(lead.locator(".notice")).to_have_text("Saved.")
    listed = await system.call("GET", "/v1/writeOffs", LEAD, params={"customer": customer})
    assert [w["state"] for w in listed["writeOffs"]] in (["APPROVED"], ["POSTED"])

    await lead.goto(f"{system.console}/reports?which=accounts/aging-by-customer")
    await expect(lead.locator("main table").first).to_be_visible()
    await inspect(lead, "11-reports")
    csv = await lead.request.get(
        f"{system.console}/reports/export?which=accounts/aging-by-customer&format=csv"
    )
    assert csv.status == 200 and "text/csv" in csv.headers["content-type"]
    xlsx = await lead.request.get(
        f"{system.console}/reports/export?which=accounts/aging-by-customer&format=xlsx"
    )
    assert xlsx.status == 200 and (await xlsx.body())[:2] == b"PK"

    await lead.select_option("#frequency", "weekly")
    await lead.fill("#weekday", "1")
    await lead.click("button:has-text('Create the schedule')")  # no recipient
    await expect(lead.locator("#recipients")).to_have_attribute("aria-invalid", "true")
    await expect(lead.locator("#recipients-error")).to_be_visible()
    await expect(lead.locator("#weekday")).to_have_value("1")
    await lead.fill("#recipients", "lena@example.com")
    await lead.click("button:has-text('Create the schedule')")
    await expect(lead.locator(".notice")).to_contain_text("Scheduled (reportSchedules/")
    await inspect(lead, "12-report-schedule")
