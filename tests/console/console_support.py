"""Helpers shared by the console tests: seeding customers, cases and the sample portfolio through
the real services, signing in a browser, and waiting for the system to settle."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date, timedelta

import httpx
from playwright.async_api import Browser, Page

from tests.console.conftest import System, token
from tests.support.ar_sample import CLEAN, sample

LEAD = token("team_lead", "lena")


SETTLE_S = 15


LOADS = 20


P95_BUDGET_MS = 300


async def seed_customer(system: System, display_name: str, collector: str, amount: str) -> dict:
    """A customer with one invoice 75 days overdue, assigned to `collector`."""
    customer = await system.call(
        "POST",
        "/v1/customers",
        LEAD,
        json={
            "displayName": display_name,
            "countryCode": "DE",
            "currencyCode": "EUR",
            "externalRef": f"C-{uuid.uuid4().hex[:8]}",
        },
    )
    due = date.today() - timedelta(days=75)
    invoice = await system.call(
        "POST",
        "/v1/invoices",
        LEAD,
        json={
            "customer": customer["name"],
            "externalNumber": f"INV-{uuid.uuid4().hex[:6]}",
            "invoiceDate": (due - timedelta(days=30)).isoformat(),
            "dueDate": due.isoformat(),
            "amount": {"currencyCode": "EUR", "amount": amount},
        },
    )
    await system.call(
        "POST",
        "/v1/customers:bulkReassign",
        LEAD,
        json={"customers": [customer["name"]], "collector": f"user:{collector}"},
    )
    return {"customer": customer, "invoice": invoice}


async def seed_breached_case(system: System, display_name: str, collector: str) -> dict:
    """A customer of `collector` with a breached case (WRONG_ITEM: needs `one_second_sla`) on part
    of its invoice, so the rest keeps it on the worklist."""
    seeded = await seed_customer(system, display_name, collector, "250.00")
    who = token("collector", collector)
    case = await system.call(
        "POST",
        "/v1/disputes",
        who,
        json={
            "customer": seeded["customer"]["name"],
            "title": "Wrong item delivered",
            "reasonCode": "WRONG_ITEM",
            "items": [
                {
                    "invoice": seeded["invoice"]["name"],
                    "amount": {"currencyCode": "EUR", "amount": "100.00"},
                }
            ],
        },
    )

    async def breached() -> bool:
        found = await system.call("GET", f"/v1/{case['name']}", who)
        return found.get("slaState") == "BREACHED"

    assert await eventually(breached), "the one-second clock never breached"
    return {**seeded, "case": case}


async def signed_in(browser: Browser, system: System, role: str, subject: str) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    refused: list[str] = []
    page.on(
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    page.refused = refused  # type: ignore[attr-defined]
    await page.goto(f"{system.console}/signin")
    await page.locator(f"input[name=role][value={role}]").check()
    await page.fill("#subject", subject)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    return page


async def eventually(check, timeout_s: float = SETTLE_S):
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.3)


async def import_sample_portfolio(system: System, collector: str) -> list[str]:
    """The shared sample portfolio (2,466 open items, USD) imported through the gateway's upload
    route (every item of it settled since: the portfolio weighs on the customer pages, reports
    and lists, not on the worklist), its customers assigned to `collector`; their names."""
    async with httpx.AsyncClient(base_url=system.gateway, timeout=120) as client:
        reply = await client.post(
            "/v1/openItems:import",
            params={"options.currencyCode": "USD", "options.fileName": CLEAN.name},
            headers={"Authorization": f"Bearer {LEAD}", "Content-Type": "text/csv"},
            content=sample(CLEAN).read_bytes(),
        )
    assert reply.status_code == 200, reply.text
    assert int(reply.json()["imported"]) + int(reply.json().get("skipped", 0)) == 2466
    names, page_token = [], ""
    while True:
        listed = await system.call(
            "GET", "/v1/customers", LEAD, params={"pageSize": 500, "pageToken": page_token}
        )
        names += [c["name"] for c in listed["customers"] if c.get("currencyCode") == "USD"]
        page_token = listed.get("nextPageToken", "")
        if not page_token:
            break
    for start in range(0, len(names), 100):
        await system.call(
            "POST",
            "/v1/customers:bulkReassign",
            LEAD,
            json={"customers": names[start : start + 100], "collector": f"user:{collector}"},
        )
    return names
