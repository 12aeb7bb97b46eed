"""gRPC methods of write-offs with four eyes, mixed into AccountsServicer: translate, call one use
case, translate back."""

from __future__ import annotations

from common import validation
from common.errors import Violations
from common.ids import parse_name
from common.listing import PageTokens, query_key
from common.protoconv import parse_money, request_key
from services.accounts.api import writeoff_convert as convert
from services.accounts.domain.writeoff import WriteOffLine
from services.accounts.service import write_offs
from services.accounts.service.context import AccountsContext
from settle.accounts.v1 import accounts_pb2 as pb


def _name(request) -> str:
    return parse_name(request.name, "writeOffs")


class WriteOffMethods:
    ctx: AccountsContext
    pages: PageTokens

    async def ListWriteOffReasons(self, request, context):
        return pb.ListWriteOffReasonsResponse(
            reasons=[
                pb.WriteOffReason(code=c, display_name=n)
                for c, n in await write_offs.reasons(self.ctx)
            ]
        )

    async def CreateWriteOff(self, request, context):
        msg = request.write_off
        customer_id = parse_name(msg.customer, "customers", "write_off.customer")
        v = Violations()
        currency = validation.currency(msg.currency_code, "write_off.currency_code", v)
        reason = validation.code(msg.reason_code, "write_off.reason_code", v)
        evidence = [
            validation.text(e, f"write_off.evidence[{i}]", v) for i, e in enumerate(msg.evidence)
        ]
        lines = []
        for i, line in enumerate(msg.lines):
            where = f"write_off.lines[{i}]"
            invoice_id = parse_name(line.invoice, "invoices", f"{where}.invoice")
            amount = parse_money(line.amount, f"{where}.amount", v)
            if amount is not None and currency and amount.currency != currency:
                v.add(f"{where}.amount.currency_code", "must be the write-off's currency")
            if amount is not None:
                lines.append(WriteOffLine(invoice_id, amount.minor))
        v.raise_if_any()
        row = await write_offs.create(
            self.ctx,
            customer_id=customer_id,
            currency=currency,
            lines=lines,
            reason_code=reason,
            evidence=evidence,
            request=request_key(request),
        )
        return convert.write_off_row(row)

    async def GetWriteOff(self, request, context):
        return convert.write_off(await write_offs.get(self.ctx, _name(request)))

    async def ListWriteOffs(self, request, context):
        customer_id = (
            parse_name(request.customer, "customers", "customer") if request.customer else None
        )
        key = query_key(customer_id or "")
        page = self.pages.page(request.page_size, request.page_token, key)
        reads = await write_offs.report(self.ctx, customer_id, page)
        return pb.ListWriteOffsResponse(
            write_offs=[convert.write_off(r) for r in reads],
            next_page_token=self.pages.next_token(page, len(reads), key),
        )

    async def SubmitWriteOff(self, request, context):
        return convert.write_off_row(
            await write_offs.submit(self.ctx, _name(request), request.etag)
        )

    async def ApproveWriteOff(self, request, context):
        return convert.write_off_row(
            await write_offs.approve(self.ctx, _name(request), request.etag)
        )

    async def RejectWriteOff(self, request, context):
        note = _note(request)
        return convert.write_off_row(
            await write_offs.reject(self.ctx, _name(request), request.etag, note)
        )

    async def CancelWriteOff(self, request, context):
        note = _note(request)
        return convert.write_off_row(
            await write_offs.cancel(self.ctx, _name(request), request.etag, note)
        )

    async def PostWriteOff(self, request, context):
        return convert.write_off_row(await write_offs.post(self.ctx, _name(request), request.etag))

    async def ReverseWriteOff(self, request, context):
        note = _note(request)
        return convert.write_off_row(
            await write_offs.reverse(self.ctx, _name(request), request.etag, note)
        )


def _note(request) -> str:
    v = Violations()
    note = validation.text(request.note, "note", v)
    v.raise_if_any()
    return note
