"""The security of the console: the live queue needs a session, forms need the session's CSRF token
and pages carry security headers."""

from __future__ import annotations

import httpx
import pytest

from tests.console.conftest import System

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_the_live_queue_needs_a_session(system: System):
    async with httpx.AsyncClient(base_url=system.console) as client:
        reply = await client.get("/inbox/events")
    assert reply.status_code == 204 and reply.content == b""


async def test_forms_need_the_session_csrf_token_and_pages_carry_security_headers(system: System):
    async with httpx.AsyncClient(base_url=system.console) as client:
        page = await client.get("/signin")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "unsafe-inline" not in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        cookie = page.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        refused = await client.post("/signin", data={"role": "collector", "subject": "mallory"})
        assert refused.status_code == 403
        assert "settle_console" not in str(refused.headers.get("location", ""))
        forged = await client.post(
            "/signin", data={"csrf": "guess", "role": "collector", "subject": "mallory"}
        )
        assert forged.status_code == 403 and "Traceback" not in forged.text
