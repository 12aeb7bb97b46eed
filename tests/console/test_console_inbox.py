"""Escalations in a real headless Chromium: Sales answering one and the case resuming, and one
raised elsewhere appearing in the open inbox."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.console.browser import inspect
from tests.console.conftest import System, token
from tests.console.console_support import (
    SETTLE_S,
    eventually,
    seed_customer,
    signed_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_sales_answers_an_escalation_and_the_case_resumes(system: System, browser: Browser):
    seeded = await seed_customer(system, "Escalade SA", "dana", "800.00")
    dana = token("collector", "dana")
    case = await system.call(
        "POST",
        "/v1/disputes",
        dana,
        json={
            "customer": seeded["customer"]["name"],
            "title": "Discount not applied",
            "reasonCode": "PRICING",
            "items": [{"invoice": seeded["invoice"]["name"]}],
        },
    )
    case = await system.call(
        "POST",
        f"/v1/{case['name']}:assign",
        dana,
        json={"etag": case["etag"], "assignee": "user:dana"},
    )
    await system.call("POST", f"/v1/{case['name']}:start", dana, json={"etag": case["etag"]})

    collector = await signed_in(browser, system, "collector", "dana")
    await collector.goto(f"{system.console}/{case['name']}")
    await collector.select_option("#esc-team", "SALES")
    await collector.select_option("#esc-reason", "PRICING_AUTHORITY")
    await collector.fill("#esc-summary", "Was the 5 % discount agreed?")
    await collector.click("button:has-text('Escalate')")
    await expect(collector.locator(".flag.status")).to_have_text("Pending internal")

    sales = await signed_in(browser, system, "sales", "sam")
    await expect(sales).to_have_url(f"{system.console}/inbox")

    async def listed() -> bool:
        await sales.goto(f"{system.console}/inbox")
        return await sales.locator("text=Was the 5 % discount agreed?").count() > 0

    assert await eventually(listed), "the escalation never reached the Sales inbox"
    await inspect(sales, "6-team-inbox")
    await sales.click("text=Was the 5 % discount agreed?")
    await expect(sales.locator("h1")).to_have_text("Was the 5 % discount agreed?")
    await inspect(sales, "7-escalation")
    await sales.click("button:has-text('Claim')")
    await expect(sales.locator(".flag.status")).to_have_text("Claimed")
    await sales.select_option("#respond-outcome", "PRICE_CONFIRMED")
    await sales.fill("#respond-note", "Agreed by the account manager in March")
    await sales.click("button:has-text('Respond')")
    await expect(sales.locator(".flag.status")).to_have_text("Responded")
    await sales.click("button:has-text('Resolve')")
    await expect(sales.locator(".flag.status")).to_have_text("Resolved")

    async def resumed() -> bool:
        found = await system.call("GET", f"/v1/{case['name']}", dana)
        return found["status"] == "IN_PROGRESS"

    assert await eventually(resumed), "the case did not resume after Sales answered"
    await collector.reload()
    await expect(collector.locator(".flag.status")).to_have_text("In progress")
    await expect(collector.locator("#history-h + table")).to_contain_text("Escalation answered")


async def test_an_escalation_raised_elsewhere_appears_in_the_open_inbox(
    system: System, browser: Browser
):
    seeded = await seed_customer(system, "Live Wire Ltd", "ivan", "640.00")
    sales = await signed_in(browser, system, "sales", "sol")
    await expect(sales.locator("#live")).to_contain_text("Live:")  # the relay is open
    await sales.evaluate("() => { window.notReloaded = true; }")
    await system.call(
        "POST",
        "/v1/escalations:raise",
        token("collector", "ivan"),
        json={
            "subject": seeded["customer"]["name"],
            "team": "SALES",
            "reasonCode": "PRICING_AUTHORITY",
            "summary": "Is the volume rebate still valid?",
        },
    )
    await expect(sales.locator("#queue")).to_contain_text(
        "Is the volume rebate still valid?", timeout=SETTLE_S * 1000
    )
    assert await sales.evaluate("() => window.notReloaded === true")  # no reload, no polling

    second_tab = await sales.context.new_page()  # one stream per session: the newer one wins
    await second_tab.goto(f"{system.console}/inbox")
    await expect(second_tab.locator("#live")).to_contain_text("Live:")
    await expect(sales.locator("#live")).to_contain_text("open in another tab")
    assert sales.refused == []  # type: ignore[attr-defined]
