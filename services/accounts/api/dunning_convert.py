"""Dunning records -> protobuf (notices, run decisions, documents)."""

from __future__ import annotations

from common.protoconv import minor_pb, timestamp
from services.accounts.data.dunning_reads import NoticeRead
from services.accounts.service.dunning_run import Decision, RunSummary
from settle.accounts.v1 import accounts_pb2 as pb


def notice(read: NoticeRead) -> pb.Notice:
    n = read.notice

    def money(minor: int):
        return minor_pb(minor, n.currency)

    return pb.Notice(
        name=f"notices/{n.id}",
        customer=f"customers/{n.customer_id}",
        key=n.key,
        currency_code=n.currency,
        level=n.level,
        level_code=n.level_code,
        channel=n.channel,
        business_date=n.business_date.isoformat(),
        ladder=f"{n.ladder_id} v{n.ladder_version}",
        lines=[
            pb.NoticeLine(
                invoice=f"invoices/{line.invoice_id}",
                number=line.number,
                due_date=line.due_date.isoformat(),
                open=money(line.open_minor),
                in_dispute=money(line.held_minor),
                promised=money(line.promised_minor),
                due_now=money(line.due_now_minor),
            )
            for line in read.lines
        ],
        total=money(n.total_minor),
        state=pb.Notice.State.Value(n.state),
        attempts=n.attempts,
        last_error=n.last_error,
        create_time=timestamp(n.created_at),
        sent_time=timestamp(n.sent_at),
    )


def decision(d: Decision) -> pb.DunningDecision:
    return pb.DunningDecision(
        customer=f"customers/{d.customer_id}",
        currency_code=d.currency,
        outcome=d.outcome,
        detail=d.detail,
        notice=f"notices/{d.notice_id}" if d.notice_id else "",
        level=d.level,
        total=minor_pb(d.total_minor, d.currency) if d.notice_id else None,
    )


def run_summary(s: RunSummary) -> pb.RunDunningResponse:
    return pb.RunDunningResponse(
        business_date=s.business_date.isoformat(),
        evaluated_customers=s.evaluated,
        notices=s.notices,
        skipped=dict(s.skipped),
        decisions=[decision(d) for d in s.decisions],
    )


def document(content_type: str, file_name: str, content: bytes) -> pb.Document:
    return pb.Document(content_type=content_type, file_name=file_name, content=content)
