"""Records of the collector's day → protobuf replies."""

from __future__ import annotations

from common.etag import etag_of
from common.money import format_minor
from common.protoconv import minor_pb, timestamp
from services.accounts.data.collections_models import InteractionRow, OutcomeCodeRow, PromiseRow
from services.accounts.data.collections_reads import (
    OutcomeCodeRecord,
    PromiseRecord,
    TimelineRecord,
)
from services.accounts.data.worklist_reads import StrategyRead
from services.accounts.domain.worklist import Rule, WorklistItem
from services.accounts.service.promises import PromiseRecordView
from settle.accounts.v1 import accounts_pb2 as pb


def outcome_code(row: OutcomeCodeRow | OutcomeCodeRecord) -> pb.OutcomeCode:
    return pb.OutcomeCode(
        name=f"outcomeCodes/{row.code}",
        code=row.code,
        display_name=row.display_name,
        requires=pb.OutcomeRequirement.Value(row.requires),
        active=row.active,
    )


def interaction(row: InteractionRow, promises: list[PromiseRow]) -> pb.Interaction:
    msg = pb.Interaction(
        name=f"interactions/{row.id}",
        customer=f"customers/{row.customer_id}",
        billing_account=(
            f"customers/{row.customer_id}/billingAccounts/{row.billing_account_id}"
            if row.billing_account_id
            else ""
        ),
        invoices=[f"invoices/{link.invoice_id}" for link in row.invoices],
        dispute=row.dispute,
        channel=pb.Interaction.Channel.Value(row.channel),
        direction=pb.Interaction.Direction.Value(row.direction),
        contact_index=row.contact_position + 1 if row.contact_position is not None else 0,
        contact_text=row.contact_text,
        outcome_code=row.outcome_code,
        note=row.note,
        author=row.author,
        occurred_time=timestamp(row.occurred_at),
        duration_seconds=row.duration_s,
        promises=[f"promises/{p.id}" for p in promises],
        create_time=timestamp(row.created_at),
    )
    if row.call_back_at is not None:
        msg.call_back_time.CopyFrom(timestamp(row.call_back_at))
    return msg


def promise(row: PromiseRow | PromiseRecord, invoice_ids: list[str]) -> pb.PromiseToPay:
    msg = pb.PromiseToPay(
        name=f"promises/{row.id}",
        uid=row.id,
        customer=f"customers/{row.customer_id}",
        amount=minor_pb(row.amount_minor, row.currency),
        promised_date=row.promised_date.isoformat(),
        invoices=[f"invoices/{i}" for i in invoice_ids],
        contact_index=row.contact_position + 1 if row.contact_position is not None else 0,
        contact_text=row.contact_text,
        taken_by=row.taken_by,
        state=pb.PromiseToPay.State.Value(row.state),
        plan=row.plan_id,
        instalment=row.instalment,
        deadline_time=timestamp(row.deadline_at),
        paid_amount=minor_pb(row.paid_minor, row.currency),
        interaction=f"interactions/{row.interaction_id}" if row.interaction_id else "",
        etag=etag_of(row.id, row.version),
        create_time=timestamp(row.created_at),
    )
    if row.judged_at is not None:
        msg.judge_time.CopyFrom(timestamp(row.judged_at))
    return msg


def promise_row(row: PromiseRow) -> pb.PromiseToPay:
    return promise(row, [link.invoice_id for link in row.invoices])


def promise_record(customer_id: str, view: PromiseRecordView) -> pb.PromiseRecord:
    c = view.counts
    return pb.PromiseRecord(
        customer=f"customers/{customer_id}",
        open=c.get("OPEN", 0),
        kept=c.get("KEPT", 0),
        partially_kept=c.get("PARTIALLY_KEPT", 0),
        broken=c.get("BROKEN", 0),
        kept_rate_percent="" if view.kept_rate_percent is None else str(view.kept_rate_percent),
        invoice_levels=[
            pb.InvoicePromiseLevel(invoice=f"invoices/{i}", level=n) for i, n in view.invoice_levels
        ],
    )


def timeline_entry(r: TimelineRecord) -> pb.TimelineEntry:
    msg = pb.TimelineEntry(
        occur_time=timestamp(r.occurred_at),
        kind=r.kind,
        subject=r.subject,
        event=r.event,
        detail=r.detail or "",
    )
    if r.amount_minor is not None and r.currency:
        msg.amount.CopyFrom(minor_pb(int(r.amount_minor), r.currency))
    return msg


def rule(r: Rule) -> pb.WorklistRule:
    return pb.WorklistRule(
        code=r.code,
        label=r.label,
        fact=r.fact,
        min="" if r.min is None else str(r.min),
        max="" if r.max is None else str(r.max),
        points=r.points,
    )


def strategy(read: StrategyRead) -> pb.WorklistStrategy:
    row = read.row
    return pb.WorklistStrategy(
        name=f"worklistStrategies/{row.version}",
        version=row.version,
        display_name=row.display_name,
        rules=[rule(r) for r in read.rules],
        active=row.active,
        create_time=timestamp(row.created_at),
    )


def worklist_item(msg: pb.WorklistItem, item: WorklistItem, rank: int) -> None:
    """Fill `msg` (a reply's `items.add()`) in place: a page is 50 of these, and building each
    item and its money and time messages apart, then copying them in, took twice the CPU."""
    f = item.facts
    msg.customer = f"customers/{f.customer_id}"
    msg.display_name = f.display_name
    msg.collector = f.collector
    msg.rank = rank
    msg.score = item.score
    for c in item.contributions:
        msg.contributions.add(rule=c.rule, label=c.label, points=c.points)
    msg.next_action = item.next_action
    msg.reason = item.reason
    msg.broken_promises = f.broken_promises
    msg.open_disputes = f.open_disputes
    msg.credit_hold = f.credit_hold
    if f.currency:
        for money, minor in (
            (msg.amount_to_collect, item.to_collect_minor),
            (msg.overdue_amount, f.overdue_minor),
            (msg.amount_in_dispute, f.held_minor),
            (msg.promised_amount, f.promised_minor),
        ):
            money.currency_code, money.amount = f.currency, format_minor(minor, f.currency)
    if f.last_contact_at is not None:
        msg.last_contact_time.FromDatetime(f.last_contact_at)
    if f.call_back_at is not None:
        msg.call_back_time.FromDatetime(f.call_back_at)
