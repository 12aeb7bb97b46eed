"""gRPC methods of settle.accounts.v1: translate, call one use case, translate back."""

from __future__ import annotations

from common import validation
from common.errors import InvalidArgument, Violations
from common.ids import parse_name
from common.listing import (
    PageTokens,
    parse_bool,
    parse_date,
    parse_filter,
    parse_order_by,
    query_key,
)
from common.protoconv import minor_pb, request_key
from common.protoconv import parse_date as parse_pb_date
from services.accounts.api import convert
from services.accounts.api import requests as req
from services.accounts.api.csv_upload import CsvUpload
from services.accounts.api.servicer_collections import CollectionsMethods
from services.accounts.api.servicer_dunning import DunningMethods
from services.accounts.api.servicer_ladders import LadderMethods
from services.accounts.api.servicer_ledger_views import LedgerViewMethods
from services.accounts.api.servicer_legal import LegalMethods
from services.accounts.api.servicer_writeoffs import WriteOffMethods
from services.accounts.domain.aging import DEFAULT_BUCKETS, AgingBuckets
from services.accounts.domain.csv_import import ColumnMapping
from services.accounts.domain.records import (
    CUSTOMER_FIELDS,
    SourceKind,
)
from services.accounts.service import aging, customers, funds, holds, importing, invoices, reversals
from services.accounts.service.context import AccountsContext
from services.accounts.service.notice_delivery import NoticeDelivery
from settle.accounts.v1 import accounts_pb2 as pb
from settle.accounts.v1 import accounts_pb2_grpc

CUSTOMER_FILTERS = {
    "country_code": str,
    "risk_class": str,
    "external_ref": str,
    "display_name": str,
    "bankruptcy": parse_bool,
    "in_litigation": parse_bool,
    "credit_hold": parse_bool,
}
INVOICE_FILTERS = {
    "customer": lambda s: parse_name(s, "customers", "filter"),
    "status": str,
    "currency_code": str,
    "external_number": str,
    "due_date": parse_date,
    "invoice_date": parse_date,
}


def _listing(pages: PageTokens, request, filters, orderable, default_order):
    terms = parse_filter(request.filter, filters)
    order = parse_order_by(request.order_by, orderable, default_order)
    page = pages.page(request.page_size, request.page_token, query_key(request.filter, order))
    return terms, order, page


class AccountsServicer(
    CollectionsMethods,
    DunningMethods,
    LadderMethods,
    LedgerViewMethods,
    WriteOffMethods,
    LegalMethods,
    accounts_pb2_grpc.AccountsServiceServicer,
):
    def __init__(
        self,
        ctx: AccountsContext,
        pages: PageTokens,
        *,
        max_import_bytes: int,
        delivery: NoticeDelivery,
    ):
        self.ctx = ctx
        self.pages = pages
        self.max_import_bytes = max_import_bytes
        self.delivery = delivery

    async def CreateCustomer(self, request, context):
        v = Violations()
        data = req.customer_data(request.customer, v)
        v.raise_if_any()
        row = await customers.create_customer(self.ctx, data, request_key(request))
        return convert.customer(row, row.contacts)

    async def GetCustomer(self, request, context):
        return convert.customer(
            *await customers.get_customer(self.ctx, req.customer_name(request.name))
        )

    async def ListCustomers(self, request, context):
        terms, order, page = _listing(
            self.pages,
            request,
            CUSTOMER_FILTERS,
            {"display_name", "create_time", "external_ref"},
            "create_time",
        )
        rows = await customers.list_customers(self.ctx, terms, order, page)
        return pb.ListCustomersResponse(
            customers=[convert.customer(*r) for r in rows],
            next_page_token=self.pages.next_token(
                page, len(rows), query_key(request.filter, order)
            ),
        )

    async def UpdateCustomer(self, request, context):
        customer_id = req.customer_name(request.customer.name, "customer.name")
        v = Violations()
        fields = validation.update_mask(request.update_mask, CUSTOMER_FIELDS, v)
        data = req.customer_data(request.customer, v)
        v.items = [x for x in v.items if _judged(x.field, fields)]
        v.raise_if_any()
        row = await customers.update_customer(
            self.ctx, customer_id, request.customer.etag, data, fields
        )
        return convert.customer(row, row.contacts)

    async def CreateBillingAccount(self, request, context):
        customer_id = req.customer_name(request.parent, "parent")
        v = Violations()
        number, display_name, currency = req.billing_account(request.billing_account, v)
        v.raise_if_any()
        row = await customers.create_billing_account(
            self.ctx,
            customer_id,
            number,
            display_name,
            currency,
            request_key(request),
        )
        return convert.billing_account(row)

    async def ListBillingAccounts(self, request, context):
        customer_id = req.customer_name(request.parent, "parent")
        page = self.pages.page(request.page_size, request.page_token, query_key(customer_id))
        rows = await customers.list_billing_accounts(self.ctx, customer_id, page)
        return pb.ListBillingAccountsResponse(
            billing_accounts=[convert.billing_account(r) for r in rows],
            next_page_token=self.pages.next_token(page, len(rows), query_key(customer_id)),
        )

    async def GetCustomerBalance(self, request, context):
        customer_id = req.customer_name(request.customer, "customer")
        return convert.balance(customer_id, await customers.customer_balance(self.ctx, customer_id))

    async def CreateInvoice(self, request, context):
        data = req.invoice_data(request.invoice)
        row = await invoices.create_invoice(self.ctx, data, request_key(request))
        return convert.invoice(row, row.lines, row.holds, promised_minor=0)  # no promise on it yet

    async def GetInvoice(self, request, context):
        invoice_id = parse_name(request.name, "invoices")
        read, promised = await invoices.get_invoice(self.ctx, invoice_id)
        return convert.invoice(*read, promised_minor=promised)

    async def ListInvoices(self, request, context):
        terms, order, page = _listing(
            self.pages,
            request,
            INVOICE_FILTERS,
            {"due_date", "invoice_date", "create_time", "external_number"},
            "due_date",
        )
        rows = await invoices.list_invoices(self.ctx, terms, order, page)
        return pb.ListInvoicesResponse(
            invoices=[convert.invoice(*r, promised_minor=p) for r, p in rows],
            next_page_token=self.pages.next_token(
                page, len(rows), query_key(request.filter, order)
            ),
        )

    async def CreatePayment(self, request, context):
        p = request.payment
        data = req.funds_data(p, "payment", "received_date", reference=p.reference)
        return convert.payment(await funds.create_payment(self.ctx, data, request_key(request)))

    async def CreateCreditNote(self, request, context):
        n = request.credit_note
        data = req.funds_data(
            n, "credit_note", "issue_date", reference=n.external_number, reason=n.reason
        )
        return convert.credit_note(
            await funds.create_credit_note(self.ctx, data, request_key(request))
        )

    async def _list_funds(self, request, list_use_case):
        customer_id = req.customer_name(request.customer, "customer")
        page = self.pages.page(request.page_size, request.page_token, query_key(customer_id))
        rows = await list_use_case(self.ctx, customer_id, page)
        return rows, self.pages.next_token(page, len(rows), query_key(customer_id))

    async def ListPayments(self, request, context):
        rows, token = await self._list_funds(request, funds.list_payments)
        return pb.ListPaymentsResponse(
            payments=[convert.payment(r) for r in rows], next_page_token=token
        )

    async def ListCreditNotes(self, request, context):
        rows, token = await self._list_funds(request, funds.list_credit_notes)
        return pb.ListCreditNotesResponse(
            credit_notes=[convert.credit_note(r) for r in rows], next_page_token=token
        )

    async def AllocateFunds(self, request, context):
        allocation = req.allocation_request(request)
        invoices_, source = await funds.allocate_funds(
            self.ctx,
            allocation,
            request_key(request),
        )
        promised = await invoices.promised(self.ctx, [source.customer_id])
        return pb.AllocateFundsResponse(
            invoices=[convert.invoice(i, i.lines, i.holds, promised.on(i.id)) for i in invoices_],
            source_unallocated_amount=minor_pb(source.unallocated_minor, source.currency),
        )

    async def ReverseAllocation(self, request, context):
        kind, source_id, invoice_id, reason_code = req.reversal_request(request)
        done = await reversals.reverse_allocation(
            self.ctx, kind, source_id, invoice_id, reason_code, request_key(request)
        )
        promised = await invoices.promised(self.ctx, [done.invoice.customer_id])
        invoice, source = done.invoice, done.source
        return pb.ReverseAllocationResponse(
            invoice=convert.invoice(invoice, invoice.lines, invoice.holds, promised.on(invoice.id)),
            reversed_amount=minor_pb(done.reversed_minor, source.currency),
            source_unallocated_amount=minor_pb(source.unallocated_minor, source.currency),
        )

    def _hold_change(self, request, *, amount_required: bool) -> holds.HoldChange:
        v = Violations()
        change = req.hold_change(request, v, amount_required=amount_required)
        v.raise_if_any()
        return change

    async def PlaceHold(self, request, context):
        change = self._hold_change(request, amount_required=True)
        row, currency = await holds.place_hold(self.ctx, change, request_key(request))
        return convert.hold(row, currency)

    async def ReleaseHold(self, request, context):
        change = self._hold_change(request, amount_required=False)
        row, currency = await holds.release_hold(self.ctx, change, request_key(request))
        return convert.hold(row, currency)

    async def PostDisputeAdjustment(self, request, context):
        kinds = {pb.CREDIT: SourceKind.CREDIT_NOTE, pb.WRITE_OFF: SourceKind.WRITE_OFF}
        if request.kind not in kinds:
            raise InvalidArgument.of("kind", "must be CREDIT or WRITE_OFF")
        v = Violations()
        change = req.hold_change(request, v, amount_required=True)
        reason_code = validation.text(request.reason_code, "reason_code", v)
        v.raise_if_any()
        invoice, source_id = await holds.post_dispute_adjustment(
            self.ctx, change, kinds[request.kind], reason_code, request_key(request)
        )
        promised = await invoices.promised(self.ctx, [invoice.customer_id])
        return pb.Adjustment(
            invoice=f"invoices/{invoice.id}",
            kind=request.kind,
            amount=request.amount,
            credit_note=f"creditNotes/{source_id}" if request.kind == pb.CREDIT else "",
            updated_invoice=convert.invoice(
                invoice, invoice.lines, invoice.holds, promised.on(invoice.id)
            ),
        )

    async def GetAgingReport(self, request, context):
        v = Violations()
        as_of = parse_pb_date(request.as_of, "as_of", v, required=False) or self.ctx.clock.today()
        customer_id = (
            validation.resource_id(request.customer, "customers", "customer", v)
            if request.customer
            else None
        )
        v.raise_if_any()
        buckets = AgingBuckets.parse(request.buckets) if request.buckets else DEFAULT_BUCKETS
        key = query_key(as_of, customer_id, request.buckets)
        page = self.pages.page(request.page_size, request.page_token, key)
        result = await aging.aging_report(
            self.ctx, aging.AgingQuery(as_of, buckets, customer_id, request.by_customer), page
        )
        return pb.AgingReport(
            as_of=as_of.isoformat(),
            totals=[convert.aging_row(r, buckets) for r in result.totals],
            customers=[convert.aging_row(r, buckets) for r in result.customers],
            next_page_token=self.pages.next_token(page, len(result.customers), key)
            if request.by_customer
            else "",
        )

    async def ImportOpenItems(self, request_iterator, context):
        options = None
        with CsvUpload(self.max_import_bytes) as upload:
            async for part in request_iterator:
                if part.HasField("options"):
                    options = part.options
                else:
                    upload.add(part.chunk)
            upload.finish()
            if options is None:
                raise InvalidArgument.of(
                    "options", "the first message must carry the import options"
                )
            mapping = mapping_from_pb(options.mapping)
            v = Violations()
            currency = validation.currency(
                options.currency_code.upper(), "options.currency_code", v
            )
            v.raise_if_any()
            result = await importing.import_open_items(self.ctx, upload, mapping, currency)
        return report_pb(result)


def mapping_from_pb(m: pb.ColumnMapping) -> ColumnMapping:
    if not m.ByteSize():
        return ColumnMapping.sample_file()
    return ColumnMapping.given({f.name: v for f, v in m.ListFields()})


def report_pb(result: importing.ImportResult) -> pb.ImportReport:
    return pb.ImportReport(
        rows_read=result.rows_read,
        imported=result.imported,
        skipped=result.skipped,
        customers_created=result.customers_created,
        payments_recorded=result.payments_recorded,
        rejected=[
            pb.RejectedRow(line_number=r.line_no, reason=str(r.reason_code), message=r.message)
            for r in result.rejected
        ],
    )


def _judged(violation_field: str, masked: tuple[str, ...]) -> bool:
    """Only the customer fields the mask names are updated, so only theirs are judged; any other
    violation (the mask itself) always is."""
    parts = violation_field.split(".")
    return parts[0] != "customer" or len(parts) < 2 or parts[1] in masked
