"""Helpers for disputes tests: accounts data, a fake escalation service, request builders."""

from __future__ import annotations

from contextlib import asynccontextmanager

import grpc

from services.disputes.outbound import escalation_messages
from settle.accounts.v1 import accounts_pb2 as apb
from settle.common.v1.common_pb2 import Money
from settle.disputes.v1 import disputes_pb2 as pb


def eur(amount: str) -> Money:
    return Money(currency_code="EUR", amount=amount)


async def customer(stub, ref: str = "C-1", **fields) -> apb.Customer:
    fields = {
        "display_name": "Acme GmbH",
        "external_ref": ref,
        "currency_code": "EUR",
        "risk_class": apb.MEDIUM,
        **fields,
    }
    return await stub.CreateCustomer(apb.CreateCustomerRequest(customer=apb.Customer(**fields)))


async def invoice(
    stub,
    customer_name: str,
    number: str,
    amount: str = "1000.00",
    currency: str = "EUR",
    lines: tuple[str, ...] = ("800.00", "200.00"),
) -> apb.Invoice:
    money = lambda a: Money(currency_code=currency, amount=a)  # noqa: E731
    return await stub.CreateInvoice(
        apb.CreateInvoiceRequest(
            invoice=apb.Invoice(
                customer=customer_name,
                external_number=number,
                invoice_date="2026-01-02",
                due_date="2026-02-01",
                amount=money(amount),
                lines=[
                    apb.InvoiceLine(description=f"line {n + 1}", amount=money(a))
                    for n, a in enumerate(lines)
                ],
            )
        )
    )


async def calendar_policies(disputes, reason: str, resolve_s: int, acknowledge_s: int = 3600):
    """Resolve and acknowledge policies in calendar seconds for `reason`, ahead of the defaults:
    clocks that come due within a test."""
    for kind, value in ((pb.RESOLVE, resolve_s), (pb.ACKNOWLEDGE, acknowledge_s)):
        await disputes.CreateSlaPolicy(
            pb.CreateSlaPolicyRequest(
                sla_policy=pb.SlaPolicy(
                    clock=kind,
                    target=pb.SlaTarget(value=value, unit=pb.CALENDAR_SECONDS),
                    reason_codes=[reason],
                    precedence=100,
                    active=True,
                )
            )
        )


def new_case(
    customer_name: str, *items: pb.DisputedItem, reason: str = "PRICING", **fields
) -> pb.Dispute:
    return pb.Dispute(
        customer=customer_name,
        title="Price differs from contract",
        reason_code=reason,
        items=list(items),
        **fields,
    )


def whole(invoice_name: str) -> pb.DisputedItem:
    return pb.DisputedItem(invoice=invoice_name)


def partial(invoice_name: str, amount: str) -> pb.DisputedItem:
    return pb.DisputedItem(invoice=invoice_name, amount=eur(amount))


class FakeEscalation:
    """Records RaiseEscalation calls as the escalation service would receive them."""

    def __init__(self):
        self.received: list = []
        self.traceparents: list[str | None] = []  # the W3C trace context each call carried
        self.fail_with: grpc.StatusCode | None = None

    async def _raise(self, payload: bytes, context):
        if self.fail_with is not None:
            await context.abort(self.fail_with, "down for the test")
        request = escalation_messages.RaiseEscalationRequest.FromString(payload)
        self.received.append(request)
        self.traceparents.append(dict(context.invocation_metadata()).get("traceparent"))
        return b""


@asynccontextmanager
async def fake_escalation():
    fake = FakeEscalation()
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler(
        "settle.escalation.v1.EscalationService",
        {"RaiseEscalation": grpc.unary_unary_rpc_method_handler(fake._raise)},
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield fake, f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


def disputes_stub(ch):
    from settle.disputes.v1 import disputes_pb2_grpc

    return disputes_pb2_grpc.DisputesServiceStub(ch)
