"""gRPC methods listing an invoice's hold movements and ledger postings, mixed into
AccountsServicer: translate, call one read, translate back."""

from __future__ import annotations

from common.ids import parse_name
from common.listing import PageTokens, query_key
from services.accounts.api import ledger_convert as convert
from services.accounts.service import invoice_movements
from services.accounts.service.context import AccountsContext
from settle.accounts.v1 import accounts_pb2 as pb


class LedgerViewMethods:
    ctx: AccountsContext
    pages: PageTokens

    async def ListHoldMovements(self, request, context):
        invoice_id = parse_name(request.parent, "invoices", "parent")
        key = query_key("holdMovements", invoice_id)
        page = self.pages.page(request.page_size, request.page_token, key)
        found = await invoice_movements.hold_movements(self.ctx, invoice_id, page)
        return pb.ListHoldMovementsResponse(
            hold_movements=[convert.hold_movement(r) for r in found],
            next_page_token=self.pages.next_token(page, len(found), key),
        )

    async def ListLedgerPostings(self, request, context):
        invoice_id = parse_name(request.parent, "invoices", "parent")
        key = query_key("postings", invoice_id)
        page = self.pages.page(request.page_size, request.page_token, key)
        found = await invoice_movements.postings(self.ctx, invoice_id, page)
        return pb.ListLedgerPostingsResponse(
            postings=[convert.posting(r) for r in found],
            next_page_token=self.pages.next_token(page, len(found), key),
        )
