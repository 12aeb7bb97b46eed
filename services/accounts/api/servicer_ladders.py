"""gRPC methods of the dunning ladder's versions, mixed into AccountsServicer: translate, call one
use case, translate back."""

from __future__ import annotations

from common.errors import Violations
from common.listing import PageTokens, query_key
from common.protoconv import request_key
from services.accounts.api import ladder_convert as convert
from services.accounts.api import ladder_requests as req
from services.accounts.service import ladders
from services.accounts.service.context import AccountsContext
from services.accounts.service.notice_delivery import NoticeDelivery
from settle.accounts.v1 import accounts_pb2 as pb


class LadderMethods:
    ctx: AccountsContext
    pages: PageTokens
    delivery: NoticeDelivery

    async def CreateDunningLadderVersion(self, request, context):
        v = Violations()
        ladder_id = req.ladder_name(request.parent, "parent")
        effective_from, levels = req.ladder_version(request.ladder_version, v)
        v.raise_if_any()
        read = await ladders.create_version(
            self.ctx, ladder_id, effective_from, levels, self.delivery.templates.has,
            request_key(request),
        )  # fmt: skip
        return convert.ladder_version(read)

    async def GetDunningLadderVersion(self, request, context):
        ladder_id, number = req.version_name(request.name)
        return convert.ladder_version(await ladders.get_version(self.ctx, ladder_id, number))

    async def ListDunningLadderVersions(self, request, context):
        ladder_id = req.ladder_name(request.parent, "parent")
        key = query_key("ladderVersions", ladder_id)
        page = self.pages.page(request.page_size, request.page_token, key)
        found = await ladders.list_versions(self.ctx, ladder_id, page)
        return pb.ListDunningLadderVersionsResponse(
            ladder_versions=[convert.ladder_version(r) for r in found],
            next_page_token=self.pages.next_token(page, len(found), key),
        )
