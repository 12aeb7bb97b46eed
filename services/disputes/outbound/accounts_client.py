"""The accounts service as intake sees it: customer and invoice facts over gRPC, with accounts'
errors translated into this service's errors on this service's request fields."""

from __future__ import annotations

import grpc

from common.errors import DomainError, InvalidArgument, Unavailable
from common.money import Money
from services.disputes.domain.intake import CustomerFacts, InvoiceFacts
from settle.accounts.v1 import accounts_pb2 as apb
from settle.accounts.v1 import accounts_pb2_grpc

RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def _minor(pb) -> int:
    return Money.parse(pb.amount, pb.currency_code).minor if pb.currency_code else 0


class AccountsClient:
    def __init__(self, channel: grpc.aio.Channel):
        self.stub = accounts_pb2_grpc.AccountsServiceStub(channel)

    async def customer(self, customer_id: str) -> CustomerFacts:
        msg = await self._call(
            self.stub.GetCustomer,
            apb.GetCustomerRequest(name=f"customers/{customer_id}"),
            "dispute.customer",
            "customer",
        )
        return CustomerFacts(
            customer_id=customer_id,
            risk_class=apb.RiskClass.Name(msg.risk_class) if msg.risk_class else "MEDIUM",
            bankruptcy=msg.bankruptcy,
            in_litigation=msg.in_litigation,
        )

    async def invoice(self, invoice_id: str, field: str) -> InvoiceFacts:
        msg = await self._call(
            self.stub.GetInvoice,
            apb.GetInvoiceRequest(name=f"invoices/{invoice_id}"),
            field,
            "invoice",
        )
        return InvoiceFacts(
            invoice_id=invoice_id,
            customer_id=msg.customer.removeprefix("customers/"),
            number=msg.external_number,
            currency=msg.amount.currency_code,
            open_minor=_minor(msg.open_amount),
            held_minor=_minor(msg.held_amount),
            lines={line.line_number: _minor(line.amount) for line in msg.lines},
        )

    async def _call(self, method, request, field: str, label: str):
        try:
            return await method(request)
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            if code == grpc.StatusCode.NOT_FOUND:
                raise InvalidArgument.of(field, f"no such {label} in accounts") from None
            if code == grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidArgument.of(field, f"accounts refused the {label} name") from None
            if code in RETRYABLE:
                raise Unavailable(
                    "the accounts service did not answer; retry", reason="ACCOUNTS_UNAVAILABLE"
                ) from None
            raise DomainError(
                f"the accounts service failed ({code.name})", reason="ACCOUNTS_FAILED"
            ) from None
