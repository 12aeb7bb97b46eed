"""gRPC methods of dunning (runs, notices, documents, statements), mixed into AccountsServicer:
translate, call one use case, translate back."""

from __future__ import annotations

from common.errors import InvalidArgument, Violations
from common.ids import parse_name
from common.listing import PageTokens, query_key
from common.protoconv import parse_date
from services.accounts.api import dunning_convert as convert
from services.accounts.service import dunning_queries, dunning_run, notice_retry
from services.accounts.service.context import AccountsContext
from services.accounts.service.notice_delivery import NoticeDelivery
from settle.accounts.v1 import accounts_pb2 as pb

STATEMENT_FORMATS = ("PDF", "CSV")


class DunningMethods:
    ctx: AccountsContext
    pages: PageTokens
    delivery: NoticeDelivery

    async def RunDunning(self, request, context):
        v = Violations()
        day = parse_date(request.business_date, "business_date", v, required=False)
        named = [
            parse_name(name, "customers", f"customers[{i}]")
            for i, name in enumerate(request.customers)
        ]
        v.raise_if_any()
        summary = await dunning_run.run_dunning(
            self.ctx,
            day or self.ctx.clock.today(),
            customers=named or None,
            reevaluate=request.reevaluate,
            keep_decisions=bool(named),
        )
        return convert.run_summary(summary)

    async def ListNotices(self, request, context):
        customer_id = parse_name(request.customer, "customers", "customer")
        key = query_key(customer_id)
        page = self.pages.page(request.page_size, request.page_token, key)
        reads = await dunning_queries.list_notices(self.ctx, customer_id, page)
        return pb.ListNoticesResponse(
            notices=[convert.notice(r) for r in reads],
            next_page_token=self.pages.next_token(page, len(reads), key),
        )

    async def GetNoticeDocument(self, request, context):
        notice_id = parse_name(request.name, "notices")
        return convert.document(
            *await dunning_queries.notice_document(self.ctx, self.delivery, notice_id)
        )

    async def RetryNotice(self, request, context):
        notice_id = parse_name(request.name, "notices")
        return convert.notice(await notice_retry.retry_notice(self.ctx, notice_id))

    async def GetStatement(self, request, context):
        customer_id = parse_name(request.customer, "customers", "customer")
        v = Violations()
        as_of = parse_date(request.as_of, "as_of", v, required=False)
        v.raise_if_any()
        fmt = (request.format or "PDF").upper()
        if fmt not in STATEMENT_FORMATS:
            raise InvalidArgument.of("format", "must be PDF or CSV")
        currency = request.currency_code.upper()
        return convert.document(
            *await dunning_queries.statement(self.ctx, customer_id, as_of, currency, fmt)
        )
