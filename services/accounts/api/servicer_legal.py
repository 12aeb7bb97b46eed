"""gRPC methods of legal cases, mixed into AccountsServicer: translate, call one use case,
translate back."""

from __future__ import annotations

from collections import defaultdict

from common import validation
from common.errors import InvalidArgument, Violations
from common.etag import etag_of
from common.ids import parse_name
from common.listing import PageTokens, query_key
from common.protoconv import minor_pb, timestamp
from services.accounts.data.legal_reads import LegalCaseRead
from services.accounts.domain.legal import LegalState
from services.accounts.service import legal_cases
from services.accounts.service.context import AccountsContext
from settle.accounts.v1 import accounts_pb2 as pb


def legal_case(read: LegalCaseRead) -> pb.LegalCase:
    c = read.case
    by_currency = defaultdict(list)
    for line in read.snapshot:
        by_currency[(line.currency, line.as_of)].append(line)
    return pb.LegalCase(
        name=f"legalCases/{c.id}",
        customer=f"customers/{c.customer_id}",
        customer_display_name=c.customer_name,
        trigger=c.trigger,
        state=pb.LegalCase.State.Value(c.state),
        snapshots=[
            pb.LegalSnapshot(
                as_of=as_of.isoformat(),
                currency_code=currency,
                lines=[
                    pb.LegalSnapshotLine(
                        invoice=f"invoices/{line.invoice_id}",
                        number=line.number,
                        due_date=line.due_date.isoformat(),
                        open=minor_pb(line.open_minor, currency),
                        in_dispute=minor_pb(line.held_minor, currency),
                        promised=minor_pb(line.promised_minor, currency),
                        to_collect=minor_pb(line.to_collect_minor, currency),
                    )
                    for line in lines
                ],
                to_collect=minor_pb(sum(line.to_collect_minor for line in lines), currency),
            )
            for (currency, as_of), lines in by_currency.items()
        ],
        history=[
            pb.LegalEvent(
                state=e.kind, occur_time=timestamp(e.occurred_at), actor=e.actor, note=e.note
            )
            for e in read.events
        ],
        etag=etag_of(c.id, c.version),
        create_time=timestamp(c.created_at),
        update_time=timestamp(c.updated_at),
    )


class LegalMethods:
    ctx: AccountsContext
    pages: PageTokens

    async def GetLegalCase(self, request, context):
        return legal_case(
            await legal_cases.get_case(self.ctx, parse_name(request.name, "legalCases"))
        )

    async def ListLegalCases(self, request, context):
        customer_id = (
            parse_name(request.customer, "customers", "customer") if request.customer else None
        )
        key = query_key(customer_id or "")
        page = self.pages.page(request.page_size, request.page_token, key)
        reads = await legal_cases.list_cases(self.ctx, customer_id, page)
        return pb.ListLegalCasesResponse(
            legal_cases=[legal_case(r) for r in reads],
            next_page_token=self.pages.next_token(page, len(reads), key),
        )

    async def RecordLegalAnswer(self, request, context):
        case_id = parse_name(request.name, "legalCases")
        if request.answer in (pb.LegalCase.STATE_UNSPECIFIED, pb.LegalCase.HANDED_OVER):
            raise InvalidArgument.of("answer", "must be a state Legal answers with")
        v = Violations()
        note = validation.text(request.note, "note", v)
        v.raise_if_any()
        answer = LegalState(pb.LegalCase.State.Name(request.answer))
        read = await legal_cases.record_answer(self.ctx, case_id, request.etag, answer, note)
        return legal_case(read)
