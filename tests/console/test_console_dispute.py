"""A dispute opened and resolved in a real headless Chromium (with a stale etag on the way)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.console.browser import inspect
from tests.console.conftest import System, token
from tests.console.console_support import (
    seed_customer,
    signed_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_a_dispute_opened_and_resolved(system: System, browser: Browser):
    seeded = await seed_customer(system, "Dispute Werke AG", "carl", "1200.00")
    customer = seeded["customer"]["name"]
    page = await signed_in(browser, system, "collector", "carl")
    await page.goto(f"{system.console}/{customer}")
    await expect(page.locator("h1")).to_contain_text("Dispute Werke AG")
    await inspect(page, "3-customer")
    for tab in ("disputes", "promises", "timeline"):
        await page.click(f".tabs a:has-text('{tab.capitalize()}')")
        await expect(page.locator(".tabs a[aria-current=page]")).to_have_text(tab.capitalize())

    await page.click("text=Open a dispute")
    await page.fill("#title", "Price differs from the contract")
    await page.select_option("#reason", "PRICING")
    await page.click("button[type=submit]:has-text('Open the dispute')")  # no invoice chosen
    await expect(page.locator(".problem")).to_be_visible()
    await expect(page.locator("#title")).to_have_value("Price differs from the contract")
    await inspect(page, "4-open-dispute-error")
    await page.locator("input[name=invoices]").first.check()
    await page.click("button[type=submit]:has-text('Open the dispute')")
    await expect(page.locator(".notice")).to_have_text("Dispute opened.")
    case_name = page.url.split(system.console + "/")[1].split("?")[0]
    await expect(page.locator(".waterfall")).to_contain_text("EUR 1,200.00")
    await inspect(page, "5-dispute")

    await page.click("button:has-text('Assign')")
    await expect(page.locator(".flags")).to_contain_text("assigned to user:carl")
    await page.click("button:has-text('Start work')")
    await expect(page.locator(".flag.status")).to_have_text("In progress")

    carl = token("collector", "carl")  # someone else changes the case meanwhile
    case = await system.call("GET", f"/v1/{case_name}", carl)
    await system.call(
        "POST",
        f"/v1/{case_name}:assign",
        carl,
        json={"etag": case["etag"], "assignee": "user:carl", "comment": "taking it over"},
    )
    await page.select_option("#root_cause", "CUSTOMER_ERROR")
    await page.select_option("#outcome", "CUSTOMER_PAYS")
    await page.click("button:has-text('Resolve')")
    await expect(page.locator(".problem")).to_contain_text("Someone changed this")
    await inspect(page, "5-dispute-stale-etag")
    await page.click("text=Reload to see the current version")
    await expect(page.locator(".problem")).to_have_count(0)
    await page.select_option("#root_cause", "CUSTOMER_ERROR")
    await page.select_option("#outcome", "CUSTOMER_PAYS")
    await page.click("button:has-text('Resolve')")
    await expect(page.locator(".flag.status")).to_have_text("Resolved")
    await expect(page.locator("#history-h + table")).to_contain_text("Status changed")
    resolved = await system.call("GET", f"/v1/{case_name}", carl)
    assert (resolved["status"], resolved["rootCauseCode"]) == ("RESOLVED", "CUSTOMER_ERROR")
