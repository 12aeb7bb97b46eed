"""The operators: clients driving the gateway's HTTP/JSON with a seeded mix of case lifecycles.
Creates carry a request_id and are retried with it until answered; state changes carry the etag
and, when a retry finds the change already made (its answer was lost), count it as done."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

from common.settings import PROJECT_ROOT

RETRYABLE = {502, 503, 504}
CALL_BUDGET_S = 90  # a call retried longer than this is reported, not retried for ever
REASON = "PRICING"  # the reason the short, calendar-second SLA policies apply to
ACK_TARGET_S, RESOLVE_TARGET_S = 2, 5
OUTCOMES = ("CREDITED", "WRITTEN_OFF", "CUSTOMER_PAYS")


def token(role: str, subject: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "gateway.devtoken", "--role", role, "--subject", subject],
        cwd=PROJECT_ROOT, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


@dataclass
class Tally:
    operations: Counter = field(default_factory=Counter)
    acknowledged: dict[str, dict[str, str]] = field(
        default_factory=lambda: {"customer": {}, "invoice": {}, "dispute": {}}
    )
    retries: int = 0
    server_errors: Counter = field(default_factory=Counter)
    abandoned: list[str] = field(default_factory=list)


class Operator:
    def __init__(self, client: httpx.AsyncClient, tally: Tally, rng: random.Random, tokens):
        self.client, self.tally, self.rng = client, tally, rng
        self.lead, self.collector = tokens["team_lead"], tokens["collector"]

    async def call(self, method: str, path: str, who: str, body=None, params=None):
        """The answer's JSON, or None when a conflict ended it (409) or it never succeeded."""
        deadline, pause = time.monotonic() + CALL_BUDGET_S, 0.1
        route = path.split("?")[0].rsplit(":", 1)[-1] if ":" in path else path.split("/")[2]
        while True:
            try:
                reply = await self.client.request(
                    method, path, json=body, params=params,
                    headers={"Authorization": f"Bearer {who}"},
                )  # fmt: skip
                if reply.status_code < 300:
                    return reply.json()
                if reply.status_code == 409:
                    return None
                if reply.status_code not in RETRYABLE:
                    self.tally.server_errors[f"{method} {route} {reply.status_code}"] += 1
                    if reply.status_code < 500:
                        return None
            except httpx.TransportError:
                pass  # the gateway itself was killed: retry as any client would
            if time.monotonic() > deadline:
                self.tally.abandoned.append(f"{method} {path}")
                return None
            self.tally.retries += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    async def create(self, kind: str, path: str, who: str, body: dict, rid: str) -> str | None:
        made = await self.call("POST", path, who, body, params={"requestId": rid})
        self.tally.operations[f"create {kind}"] += 1
        if made:
            self.tally.acknowledged[kind][rid] = made["name"]
            return made["name"]
        return None

    async def move(self, name: str, action: str, lands_in: set[str], **body) -> bool:
        """A state change with the current etag; a stale one is re-read and retried, and a case
        already where the change leads is taken as the change made (its answer was lost)."""
        for _ in range(5):
            case = await self.call("GET", f"/v1/{name}", self.collector)
            if case is None:
                return False
            if case["status"] in lands_in and action != "assign":
                return True
            done = await self.call(
                "POST", f"/v1/{name}:{action}", self.collector, {**body, "etag": case["etag"]}
            )
            if done is not None:
                self.tally.operations[action] += 1
                return True
        return False

    async def lifecycle(self, n: int) -> None:
        rid = lambda kind: f"chaos-{kind}-{uuid.UUID(int=self.rng.getrandbits(128)).hex}"  # noqa: E731
        customer_rid = rid("customer")
        customer = await self.create(
            "customer", "/v1/customers", self.lead,
            {"displayName": customer_rid, "currencyCode": "EUR", "countryCode": "DE"},
            customer_rid,
        )  # fmt: skip
        if not customer:
            return
        invoices = []
        for _ in range(self.rng.randint(1, 2)):
            number = rid("invoice")
            made = await self.create(
                "invoice", "/v1/invoices", self.lead,
                {"customer": customer, "externalNumber": number, "invoiceDate": "2026-01-05",
                 "dueDate": "2026-02-04", "amount": {"currencyCode": "EUR", "amount": "1000.00"}},
                number,
            )  # fmt: skip
            if made:
                invoices.append(made)
        if not invoices:
            return
        items = [
            {"invoice": inv, "amount": {"currencyCode": "EUR", "amount": "250.00"}}
            if self.rng.random() < 0.5 else {"invoice": inv}
            for inv in invoices
        ]  # fmt: skip
        title = rid("dispute")
        case = await self.create(
            "dispute", "/v1/disputes", self.collector,
            {"customer": customer, "title": title, "reasonCode": REASON, "items": items},
            title,
        )  # fmt: skip
        if not case:
            return
        # Wait around the targets, so that some milestones fall due while the case runs and
        # some cases stop just before or after one.
        await asyncio.sleep(self.rng.uniform(0, ACK_TARGET_S * 1.5))
        if self.rng.random() < 0.15:
            return  # left open: its clocks run out and breach
        if not await self.move(case, "assign", set(), assignee=f"user:op{n}"):
            return
        if self.rng.random() < 0.2:
            await self.move(case, "withdraw", {"WITHDRAWN"}, comment="customer withdrew")
            return
        if not await self.move(case, "start", {"IN_PROGRESS"}):
            return
        await asyncio.sleep(self.rng.uniform(0, RESOLVE_TARGET_S * 1.2))
        outcome = self.rng.choice(OUTCOMES)
        await self.move(
            case, "resolve", {"RESOLVED"}, rootCauseCode="CUSTOMER_ERROR", outcome=outcome
        )


async def sla_policies(client: httpx.AsyncClient, admin: str) -> None:
    """Calendar-second targets for REASON, ahead of the defaults, before any fault is caused."""
    for clock, value in (("ACKNOWLEDGE", ACK_TARGET_S), ("RESOLVE", RESOLVE_TARGET_S)):
        reply = await client.post(
            "/v1/slaPolicies",
            headers={"Authorization": f"Bearer {admin}"},
            json={"clock": clock, "target": {"value": value, "unit": "CALENDAR_SECONDS"},
                  "reasonCodes": [REASON], "precedence": 100, "active": True},
        )  # fmt: skip
        reply.raise_for_status()


async def drive(operator: Operator, stop_at: float) -> None:
    n = 0
    while time.monotonic() < stop_at:
        await operator.lifecycle(n)
        n += 1
