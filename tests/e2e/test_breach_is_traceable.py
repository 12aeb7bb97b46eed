"""Issue 6's proof, end to end: every process started as `make run` starts them, exporting OTLP to
a real receiver. A dispute opened through the gateway under a known trace breaches a short SLA;
the received spans show one trace across gateway, disputes and accounts for the open, a breach
span linked to it, the automatic escalation continuing the breach's trace, and no personal data;
the disputes process's Prometheus endpoint counts the breach."""

from __future__ import annotations

import asyncio
import os
import re

import httpx
import pytest

from gateway.auth.tokens import mint
from gateway.settings import GatewaySettings
from tests.support.otlp import OtlpReceiver
from tests.support.pii import personal_data_in
from tests.support.stack import full_stack

pytestmark = pytest.mark.e2e
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
CONTACT = {"name": "Ana Buchholz", "email": "ana.buchholz@acme.example", "phone": "+49 30 1234567"}
TARGET_S = 3


def token(roles: list[str], team: str = "", subject: str = "e2e") -> str:
    settings = GatewaySettings.from_env({"SETTLE_ENV": "development"})
    return mint(settings.jwt, subject, roles, team)


async def call(client: httpx.AsyncClient, method: str, path: str, who: str, **kw) -> dict:
    headers = {"Authorization": f"Bearer {who}", **kw.pop("headers", {})}
    reply = await client.request(method, path, headers=headers, **kw)
    assert reply.status_code < 300, (method, path, reply.status_code, reply.text)
    return reply.json()


async def eventually(probe, within: float, every: float = 0.2):
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {within}s")
        await asyncio.sleep(every)


async def test_a_breach_leads_back_to_the_request_that_opened_the_case(tmp_path):
    with OtlpReceiver() as receiver:
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        }
        async with (
            full_stack(tmp_path, env) as stack,
            httpx.AsyncClient(base_url=stack.http, timeout=10) as client,
        ):
            admin, collector = token(["admin"]), token(["collector"], subject="collector-7")
            billing = token(["specialist"], subject="specialist-3")
            for clock, value, unit in (
                ("RESOLVE", TARGET_S, "CALENDAR_SECONDS"),
                ("ACKNOWLEDGE", 1, "CALENDAR_HOURS"),
            ):
                await call(
                    client,
                    "POST",
                    "/v1/slaPolicies",
                    admin,
                    json={
                        "clock": clock,
                        "target": {"value": value, "unit": unit},
                        "reasonCodes": ["WRONG_ITEM"],
                        "precedence": 100,
                        "active": True,
                    },
                )
            customer = await call(
                client,
                "POST",
                "/v1/customers",
                billing,
                json={"displayName": "Acme GmbH", "currencyCode": "EUR", "contacts": [CONTACT]},
            )
            invoice = await call(
                client,
                "POST",
                "/v1/invoices",
                billing,
                json={
                    "customer": customer["name"],
                    "externalNumber": "E2E-1",
                    "invoiceDate": "2026-01-02",
                    "dueDate": "2026-02-01",
                    "amount": {"currencyCode": "EUR", "amount": "1000.00"},
                },
            )
            dispute = await call(
                client,
                "POST",
                "/v1/disputes",
                collector,
                headers={"traceparent": TRACEPARENT},
                json={
                    "customer": customer["name"],
                    "title": "Wrong item shipped",
                    "reasonCode": "WRONG_ITEM",
                    "items": [
                        {
                            "invoice": invoice["name"],
                            "amount": {"currencyCode": "EUR", "amount": "250.00"},
                        }
                    ],
                    "firstNote": f"Called {CONTACT['name']} at {CONTACT['phone']}",
                },
            )

            async def breached():
                case = await call(client, "GET", f"/v1/{dispute['name']}", collector)
                return case if case.get("slaState") == "BREACHED" else None

            await eventually(breached, within=TARGET_S + 10)

            async def escalated():
                found = await call(
                    client,
                    "GET",
                    "/v1/escalations",
                    token(["team_lead"]),
                    params={"filter": f'subject="{dispute["name"]}"'},
                )
                return found.get("escalations")

            (escalation,) = await eventually(escalated, within=15)
            assert escalation["raisedBy"].startswith("rule:")

            # 1. the open is one trace across gateway, disputes and accounts
            def open_trace(r):
                services = {s.service for s in r.trace(TRACE_ID)}
                return services >= {"settle-gateway", "settle-disputes", "settle-accounts"}

            await receiver.until(open_trace, within=15)

            # 2. the breach is an event of the sweeper batch's breach span (a trace of its own,
            #    marked as an error), which links to that trace
            def breach_spans(r):
                return [s for s in r.named("settle.sla.breach") if s.service == "settle-disputes"]

            (breach,) = await receiver.until(breach_spans, within=15)
            assert breach.status == "error"
            assert TRACE_ID in {link.trace_id for link in breach.links}
            (breached,) = [e for e in breach.events if e.name == "settle.sla.breached"]
            assert breached.attributes["settle.case.id"] == dispute["name"].removeprefix(
                "disputes/"
            )
            assert breached.attributes["settle.clock.kind"] == "RESOLVE"

            # 3. the automatic escalation continues the breach's trace in the escalation service
            def escalation_in_breach_trace(r):
                return [s for s in r.trace(breach.trace_id) if s.service == "settle-escalation"]

            await receiver.until(escalation_in_breach_trace, within=15)

            # 4. no personal data anywhere
            assert personal_data_in(receiver.spans, known=[*CONTACT.values()]) == []

            # 5. Prometheus on the disputes process counts the breach
            metrics = (await client.get(stack.metrics_url("disputes"))).text
            counted = re.findall(
                r'^settle_sla_breaches(?:_total)?\{[^}]*clock="RESOLVE"[^}]*\} (\S+)$',
                metrics,
                re.M,
            )
            assert counted and float(counted[0]) >= 1, metrics[-2000:]
            if os.environ.get("E2E_PRINT_TREE"):
                print_tree(receiver.trace(TRACE_ID) + receiver.trace(breach.trace_id))


def print_tree(spans) -> None:
    """The span tree without database statements, for people reading the run (-s)."""
    by_parent: dict = {}
    for span in sorted(spans, key=lambda s: s.start_ns):
        by_parent.setdefault(span.parent_span_id, []).append(span)
    ids = {s.span_id for s in spans}

    def walk(span, depth):
        if "db.system" not in span.attributes:
            print(f"{'  ' * depth}{span.service}: {span.name}")
        for child in by_parent.get(span.span_id, []):
            walk(child, depth + 1)

    for root in [s for s in spans if s.parent_span_id not in ids]:
        walk(root, 0)
