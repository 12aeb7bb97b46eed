"""Rows and domain results → protobuf messages. A row is the ORM object a command wrote or the
record a display read made (data/reads.py), read by attribute alike; children (contacts, invoice
lines, holds) are passed beside their parent."""

from __future__ import annotations

from collections.abc import Iterable

from common.etag import etag_of
from common.money import Money
from common.protoconv import minor_pb, money_pb, timestamp
from services.accounts.data.billing_reads import (
    BillingAccountRecord,
    CreditNoteRecord,
    PaymentRecord,
)
from services.accounts.data.models import (
    BillingAccountRow,
    ContactRow,
    CreditNoteRow,
    CustomerRow,
    HoldRow,
    InvoiceLineRow,
    InvoiceRow,
    PaymentRow,
)
from services.accounts.data.reads import Contact, CustomerRecord, HoldRecord, InvoiceRecord, Line
from services.accounts.domain.aging import AgingBuckets, AgingRow
from services.accounts.domain.collectible import to_collect
from settle.accounts.v1 import accounts_pb2 as pb


def customer(
    row: CustomerRow | CustomerRecord, contacts: Iterable[ContactRow | Contact]
) -> pb.Customer:
    msg = pb.Customer(
        name=f"customers/{row.id}",
        uid=row.id,
        display_name=row.display_name,
        external_ref=row.external_ref or "",
        country_code=row.country_code,
        time_zone=row.time_zone,
        currency_code=row.currency_code,
        risk_class=pb.RiskClass.Value(row.risk_class),
        bankruptcy=row.bankruptcy,
        in_litigation=row.in_litigation,
        credit_hold=row.credit_hold,
        dunning_block=row.dunning_block,
        contacts=[
            pb.Contact(name=c.name, email=c.email, phone=c.phone, language=c.language, role=c.role)
            for c in contacts
        ],
        etag=etag_of(row.id, row.version),
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
    )
    if row.credit_limit_minor is not None and row.credit_limit_currency is not None:
        msg.credit_limit.CopyFrom(minor_pb(row.credit_limit_minor, row.credit_limit_currency))
    return msg


def billing_account(row: BillingAccountRow | BillingAccountRecord) -> pb.BillingAccount:
    return pb.BillingAccount(
        name=f"customers/{row.customer_id}/billingAccounts/{row.id}",
        display_name=row.display_name,
        number=row.number,
        currency_code=row.currency_code,
        create_time=timestamp(row.created_at),
    )


def hold(row: HoldRow | HoldRecord, currency: str) -> pb.Hold:
    return pb.Hold(
        name=f"invoices/{row.invoice_id}/holds/{row.id}",
        dispute=row.dispute,
        amount=minor_pb(row.amount_minor, currency),
        released=row.amount_minor == 0,
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
    )


def invoice(
    row: InvoiceRow | InvoiceRecord,
    lines: Iterable[InvoiceLineRow | Line],
    holds: Iterable[HoldRow | HoldRecord],
    promised_minor: int,
) -> pb.Invoice:
    cur = row.currency
    return pb.Invoice(
        name=f"invoices/{row.id}",
        uid=row.id,
        customer=f"customers/{row.customer_id}",
        billing_account=(
            f"customers/{row.customer_id}/billingAccounts/{row.billing_account_id}"
            if row.billing_account_id
            else ""
        ),
        external_number=row.external_number,
        invoice_date=row.invoice_date.isoformat(),
        due_date=row.due_date.isoformat(),
        amount=minor_pb(row.amount_minor, cur),
        lines=[
            pb.InvoiceLine(
                line_number=line.line_number,
                description=line.description,
                quantity=line.quantity,
                amount=minor_pb(line.amount_minor, cur),
                kind=line.kind,
            )
            for line in lines
        ],
        open_amount=minor_pb(row.open_minor, cur),
        held_amount=minor_pb(row.held_minor, cur),
        collectible_amount=minor_pb(
            to_collect(row.open_minor, row.held_minor, promised_minor), cur
        ),
        status=pb.OPEN if row.open_minor > 0 else pb.CLOSED,
        holds=[hold(h, cur) for h in holds if h.amount_minor > 0],
        create_time=timestamp(row.created_at),
    )


def payment(row: PaymentRow | PaymentRecord) -> pb.Payment:
    return pb.Payment(
        name=f"payments/{row.id}",
        customer=f"customers/{row.customer_id}",
        amount=minor_pb(row.amount_minor, row.currency),
        received_date=row.received_date.isoformat(),
        reference=row.reference,
        unallocated_amount=minor_pb(row.unallocated_minor, row.currency),
        create_time=timestamp(row.created_at),
    )


def credit_note(row: CreditNoteRow | CreditNoteRecord) -> pb.CreditNote:
    return pb.CreditNote(
        name=f"creditNotes/{row.id}",
        customer=f"customers/{row.customer_id}",
        amount=minor_pb(row.amount_minor, row.currency),
        issue_date=row.issue_date.isoformat(),
        external_number=row.external_number,
        reason=row.reason,
        unallocated_amount=minor_pb(row.unallocated_minor, row.currency),
        create_time=timestamp(row.created_at),
    )


def balance(customer_id: str, totals: dict[str, dict[str, int]]) -> pb.CustomerBalance:
    rows = []
    for cur, t in sorted(totals.items()):
        rows.append(
            pb.CurrencyBalance(
                currency_code=cur,
                open_receivables=minor_pb(t["open"], cur),
                held=minor_pb(t["held"], cur),
                collectible=minor_pb(to_collect(t["open"], t["held"], t["promised"]), cur),
                overdue=minor_pb(t["overdue"], cur),
                unallocated_cash=minor_pb(t["cash"], cur),
                open_credits=minor_pb(t["credits"], cur),
            )
        )
    return pb.CustomerBalance(customer=f"customers/{customer_id}", balances=rows)


def aging_row(row: AgingRow, buckets: AgingBuckets) -> pb.AgingRow:
    labels = {b.code: b.label for b in buckets}
    cur = row.currency
    return pb.AgingRow(
        customer=f"customers/{row.customer_id}" if row.customer_id else "",
        currency_code=cur,
        buckets=[
            pb.AgingBucketAmount(
                bucket=b.code,
                label=labels[b.code],
                amount=minor_pb(b.collectible_minor, cur),
                held=minor_pb(b.held_minor, cur),
                invoice_count=b.item_count,
            )
            for b in row.buckets
        ],
        total_open=money_pb(Money(row.open_minor, cur)),
        total_held=money_pb(Money(row.held_minor, cur)),
    )
