"""A bare grpc.aio server: no Settle interceptors, no ORM, no identity checks; OpenTelemetry's
stock instrumentation only when the OTEL_* variables turn tracing on (bench/baseline/tracing.py).

`python -m bench.baseline.server --listen ADDR --dsn DSN` serves the benchmarked accounts methods
with raw asyncpg (the service's SQL, in a transaction where the service uses one); `--service
disputes --accounts ADDR` serves CreateDispute the same way, asking the accounts server at ADDR;
`--next ADDR` instead relays every call, as bytes, to the next server, so a chain has as many hops
as the scenario it is compared to. It answers the standard health service so the bench starts it
like any Settle process.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import UTC, date, datetime

import asyncpg
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from bench.baseline import accounts_sql, import_rows, pbconv, tracing, worklist_sql
from bench.baseline.disputes_bare import DisputesHandlers
from common.listing import Page, PageTokens, query_key
from common.rpc.server import CHANNEL_OPTIONS, SERVER_OPTIONS
from common.settings import DEV_INTERNAL_SECRET
from services.accounts.api.collections_convert import worklist_item
from services.accounts.domain import worklist
from settle.accounts.v1 import accounts_pb2 as pb

SERVICE = "settle.accounts.v1.AccountsService"
STREAMING_REQUESTS = {"ImportOpenItems"}  # client-streaming methods, for the relay
# One connection per request in flight at the bench's 16 clients (the services' pools allow 20):
# enough to never queue, and few, since PostgreSQL's connections are shared with other users.
POOL_MAX = 16


class AccountsHandlers:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool
        self.pages = PageTokens(DEV_INTERNAL_SECRET, "accounts")  # the bench's accounts process

    async def get_customer(self, request: pb.GetCustomerRequest, context) -> pb.Customer:
        async with self.pool.acquire() as conn:
            row, contacts = await accounts_sql.get_customer(conn, request.name.split("/", 1)[1])
        if row is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such customer")
        return pbconv.customer(row, contacts)

    async def list_invoices(self, request: pb.ListInvoicesRequest, context):
        terms = dict(term.split("=", 1) for term in request.filter.split(" AND "))
        size = request.page_size or 50
        async with self.pool.acquire() as conn:
            rows, lines, holds = await accounts_sql.list_open_invoices(
                conn, terms["customer"].split("/", 1)[1], size
            )
        return pb.ListInvoicesResponse(
            invoices=pbconv.invoices(rows, lines, holds),
            next_page_token=self.pages.next_token(
                Page(0, size), len(rows), query_key(request.filter, ("due_date", False))
            ),
        )

    async def get_invoice(self, request: pb.GetInvoiceRequest, context) -> pb.Invoice:
        async with self.pool.acquire() as conn:
            rows, lines, holds = await accounts_sql.get_invoice(conn, request.name.split("/", 1)[1])
        if not rows:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such invoice")
        return pbconv.invoices(rows, lines, holds)[0]

    async def aging(self, request: pb.GetAgingReportRequest, context) -> pb.AgingReport:
        as_of = date.fromisoformat(request.as_of)
        async with self.pool.acquire() as conn:
            rows = await accounts_sql.aging_totals(conn, as_of)
        return pbconv.aging_totals(as_of, rows)

    async def import_open_items(self, request_iterator, context) -> pb.ImportReport:
        currency, chunks = "", []
        async for part in request_iterator:
            if part.HasField("options"):
                currency = part.options.currency_code
            else:
                chunks.append(part.chunk)
        rows = import_rows.parse(b"".join(chunks), currency)
        async with self.pool.acquire() as conn:
            await import_rows.write_inserts(conn, rows)
        return pb.ImportReport(
            rows_read=len(rows["invoices"]),
            imported=len(rows["invoices"]),
            customers_created=len(rows["customers"]),
            payments_recorded=len(rows["payments"]),
        )

    async def list_worklist(self, request: pb.ListWorklistRequest, context):
        """One collector's list (the bench asks as a team lead naming the collector), ranked by
        the service's own statement, the page's items explained by the service's domain
        function, the page signed like the service's."""
        now = datetime.now(UTC)
        key = query_key(request.collector, request.team)
        page = self.pages.page(request.page_size, request.page_token, key)
        async with self.pool.acquire() as conn:
            strategy = await worklist_sql.strategy(conn)
            ranked = await worklist_sql.ranked(conn, strategy.rules, request.collector, now, page)
        items = [
            worklist.ranked_item(f, strategy, now, now.date(), points) for f, points in ranked.items
        ]
        reply = pb.ListWorklistResponse(
            next_page_token=self.pages.next_token(page, len(items), key),
            strategy_version=strategy.version,
            done_today=ranked.done_today,
            total_size=ranked.on_list,
        )
        for i, item in enumerate(items):
            worklist_item(reply.items.add(), item, page.offset + i + 1)
        return reply

    def generic(self) -> grpc.GenericRpcHandler:
        def unary(fn, request_type):
            return grpc.unary_unary_rpc_method_handler(
                fn, request_type.FromString, lambda m: m.SerializeToString()
            )

        return grpc.method_handlers_generic_handler(SERVICE, {
            "GetCustomer": unary(self.get_customer, pb.GetCustomerRequest),
            "ListInvoices": unary(self.list_invoices, pb.ListInvoicesRequest),
            "GetInvoice": unary(self.get_invoice, pb.GetInvoiceRequest),
            "GetAgingReport": unary(self.aging, pb.GetAgingReportRequest),
            "ListWorklist": unary(self.list_worklist, pb.ListWorklistRequest),
            "ImportOpenItems": grpc.stream_unary_rpc_method_handler(
                self.import_open_items, pb.ImportOpenItemsRequest.FromString,
                lambda m: m.SerializeToString(),
            ),
        })  # fmt: skip


class Relay(grpc.GenericRpcHandler):
    """Forwards every call of any service, untouched bytes, to the next hop."""

    def __init__(self, channel: grpc.aio.Channel):
        self.channel = channel
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}

    def service(self, details):
        method = details.method
        if method.startswith("/grpc.health."):
            return None
        if method not in self.handlers:
            self.handlers[method] = self._handler(method)
        return self.handlers[method]

    def _handler(self, method: str) -> grpc.RpcMethodHandler:
        if method.rsplit("/", 1)[-1] in STREAMING_REQUESTS:
            stream_call = self.channel.stream_unary(method)

            async def relay_stream(request_iterator, context):
                return await stream_call(request_iterator, timeout=context.time_remaining())

            return grpc.stream_unary_rpc_method_handler(relay_stream)
        unary_call = self.channel.unary_unary(method)

        async def relay_unary(request, context):
            return await unary_call(request, timeout=context.time_remaining())

        return grpc.unary_unary_rpc_method_handler(relay_unary)


async def serve(args: argparse.Namespace) -> None:
    server_interceptors, client_interceptors, shutdown = tracing.setup(args.service)
    # the same HTTP/2 settings as Settle's servers (keepalive, message sizes): transport config,
    # not framework — without them a long import's client pings earn a GOAWAY
    server = grpc.aio.server(interceptors=server_interceptors, options=SERVER_OPTIONS)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    pool = channel = None
    downstream = args.next_hop or args.accounts
    if downstream:
        channel = grpc.aio.insecure_channel(
            downstream, options=CHANNEL_OPTIONS, interceptors=client_interceptors
        )
    if args.next_hop:
        server.add_generic_rpc_handlers((Relay(channel),))
    else:
        pool = await asyncpg.create_pool(args.dsn, min_size=1, max_size=POOL_MAX)
        handlers = (
            DisputesHandlers(pool, channel)
            if args.service == "disputes"
            else AccountsHandlers(pool)
        )
        server.add_generic_rpc_handlers((handlers.generic(),))
    listen = args.listen
    server.add_insecure_port(listen)
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(2)
    if pool:
        await pool.close()
    if channel:
        await channel.close()
    shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline.server")
    parser.add_argument("--listen", required=True)
    parser.add_argument("--service", choices=("accounts", "disputes"), default="accounts")
    parser.add_argument("--accounts", help="disputes: the accounts server to ask")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--dsn", help="serve the service's methods from this database")
    target.add_argument("--next", dest="next_hop", help="relay every call to this address")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
