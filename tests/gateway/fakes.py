"""A stand-in accounts backend that fails on demand: GetCustomer("customers/<CODE>") answers
with that gRPC status (and ErrorInfo and BadRequest details), "customers/HANG" never answers,
"customers/OK" answers. Real services cannot be made to return every status; this one can."""

from __future__ import annotations

import asyncio

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2_grpc

from settle.accounts.v1 import accounts_pb2 as pb

GET_CUSTOMER = "/settle.accounts.v1.AccountsService/GetCustomer"


def _packed(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


class FailingAccounts:
    def __init__(self):
        self.metadata: dict[str, str] = {}  # of the last call answered OK
        self.server = grpc.aio.server()
        self.server.add_generic_rpc_handlers((self,))
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), self.server)

    def service(self, details):
        if details.method == GET_CUSTOMER:
            return grpc.unary_unary_rpc_method_handler(
                self.get_customer, pb.GetCustomerRequest.FromString, pb.Customer.SerializeToString
            )
        return None

    async def get_customer(self, request, context):
        what = request.name.rsplit("/", 1)[-1]
        if what == "HANG":
            await asyncio.sleep(60)
        if what == "OK":
            self.metadata = dict(context.invocation_metadata())
            return pb.Customer(name=request.name, display_name="Fake")
        code = grpc.StatusCode[what]
        status = status_pb2.Status(
            code=code.value[0],
            message=f"internal detail: {what} at 10.1.2.3:5432",
            details=[
                _packed(
                    error_details_pb2.ErrorInfo(reason=f"R_{what}", domain="accounts.settle.app")
                ),
                _packed(
                    error_details_pb2.BadRequest(
                        field_violations=[
                            error_details_pb2.BadRequest.FieldViolation(
                                field="name", description="bad"
                            )
                        ]
                    )
                ),
            ],
        )
        await context.abort(
            code, status.message, (("grpc-status-details-bin", status.SerializeToString()),)
        )

    async def start(self) -> int:
        port = self.server.add_insecure_port("127.0.0.1:0")
        await self.server.start()
        return port

    async def stop(self) -> None:
        await self.server.stop(0)
