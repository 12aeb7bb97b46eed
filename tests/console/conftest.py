"""The whole system as `make run` starts it (services, gateway and console, on free ports) and one
headless Chromium, shared by the console tests of a module."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest_asyncio
from playwright.async_api import async_playwright

from gateway.auth.tokens import mint
from gateway.settings import GatewaySettings
from tests.console.browser import ARGS, require_chromium
from tests.support.stack import full_stack


def token(role: str, subject: str, team: str = "") -> str:
    settings = GatewaySettings.from_env({"SETTLE_ENV": "development"})
    return mint(settings.jwt, subject, [role], team)


@dataclass
class System:
    console: str
    gateway: str

    async def call(self, method: str, path: str, who: str, **kwargs) -> dict:
        async with httpx.AsyncClient(base_url=self.gateway, timeout=10) as client:
            reply = await client.request(
                method, path, headers={"Authorization": f"Bearer {who}"}, **kwargs
            )
        assert reply.status_code < 300, (method, path, reply.status_code, reply.text)
        return reply.json()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def system(tmp_path_factory):
    async with full_stack(tmp_path_factory.mktemp("console-stack")) as stack:
        yield System(console=stack.console, gateway=stack.http)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser():
    executable = require_chromium()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=executable, args=ARGS)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def one_second_sla(system: System) -> None:
    """A policy of 1 calendar second on the acknowledge clock of WRONG_ITEM cases (no other test
    opens one): such a case breaches within seconds."""
    await system.call(
        "POST",
        "/v1/slaPolicies",
        token("admin", "ada"),
        json={
            "displayName": "console test: breach at once",
            "clock": "ACKNOWLEDGE",
            "target": {"value": 1, "unit": "CALENDAR_SECONDS"},
            "reasonCodes": ["WRONG_ITEM"],
            "precedence": 1000,
            "active": True,
        },
    )
