"""Headless Chromium from the system packages (Debian's `chromium`, installed by `make browser`),
driven by Playwright; plus what every console test does on each screen: screenshots at 1280 px
and 390 px, and an axe-core check (vendored) for serious or critical violations."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.async_api import Page

from common.settings import PROJECT_ROOT

CHROMIUM = os.environ.get("CONSOLE_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "var" / "test-artifacts" / "console"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def require_chromium() -> str:
    """The browser's path; a missing browser fails under CI=true and skips elsewhere."""
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    message = f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


async def axe_violations(page: Page) -> list[dict]:
    """Serious and critical axe-core violations of the page as it is now."""
    # evaluated over the DevTools protocol: a <script> tag would be (rightly) refused by the CSP
    await page.evaluate(AXE.read_text())
    result = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


async def inspect(page: Page, name: str) -> None:
    """Screenshots of the screen at desktop and phone width, then the accessibility check; the
    page must not scroll sideways at 390 px (tables scroll inside their own box)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.set_viewport_size(WIDE)
    await page.screenshot(path=str(ARTIFACTS / f"{name}-1280.png"), full_page=True, caret="initial")
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True, caret="initial")
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    await page.set_viewport_size(WIDE)
    assert overflow <= 1, f"{name}: the page is {overflow}px wider than a 390 px phone"
    violations = await axe_violations(page)
    assert not violations, f"{name}: accessibility violations {violations}"
