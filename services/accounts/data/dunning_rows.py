"""One row builder per dunning, write-off and Legal table (migration 0006), used by the ORM and the
Core paths alike."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import Table

from common.ids import new_id
from services.accounts.data.rows import Row
from services.accounts.domain.dunning import Notice
from services.accounts.domain.ladder import Channel, Ladder
from services.accounts.domain.legal import LegalCase, LegalEvent
from services.accounts.domain.writeoff import Approval, WriteOff

QUEUED, SENT, FAILED = "QUEUED", "SENT", "FAILED"


def table(model: type) -> Table:
    """A model's table, for the Core batch inserts (typed: `__table__` is a FromClause)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def ladder_version(ladder: Ladder, now: datetime, by: str) -> tuple[Row, list[Row], list[Row]]:
    """A ladder version's rows: the version (usable from its effective date, created by the
    actor `by` at `now`), its levels and their tolerances per currency."""
    key = dict(ladder_id=ladder.ladder_id, ladder_version=ladder.version)
    version = dict(id=ladder.ladder_id, version=ladder.version,
                   effective_from=ladder.effective_from, active=True, created_at=now,
                   created_by=by)  # fmt: skip
    levels = [
        dict(**key, number=level.number, code=level.code, offset_days=level.offset_days,
             channel=level.channel.value, template_id=level.template_id,
             min_days_between=level.min_days_between, actions=[a.value for a in level.actions])
        for level in ladder.levels
    ]  # fmt: skip
    tolerances = [
        dict(**key, level=level.number, currency=currency, minor=minor)
        for level in ladder.levels
        for currency, minor in sorted(level.tolerance.items())
    ]
    return version, levels, tolerances


def notice(notice_id: str, n: Notice, now: datetime) -> Row:
    """A phone task is delivered by being on the collector's worklist: SENT at once."""
    task = n.level.channel is Channel.PHONE_TASK
    return dict(
        id=notice_id,
        key=n.key.text,
        customer_id=n.key.customer_id,
        currency=n.currency,
        level=n.level.number,
        level_code=n.level.code,
        business_date=n.key.business_date,
        ladder_id=n.ladder_id,
        ladder_version=n.ladder_version,
        channel=n.level.channel.value,
        template_id=n.level.template_id,
        total_minor=n.total_minor,
        unallocated_cash_minor=n.unallocated_cash_minor,
        state=SENT if task else QUEUED,
        attempts=0,
        last_error="",
        available_at=now,
        created_at=now,
        sent_at=now if task else None,
    )


def notice_lines(notice_id: str, n: Notice) -> list[Row]:
    return [
        dict(
            notice_id=notice_id,
            invoice_id=line.invoice_id,
            position=position,
            number=line.number,
            due_date=line.due_date,
            open_minor=line.open_minor,
            held_minor=line.in_dispute_minor,
            promised_minor=line.promised_minor,
            in_legal_minor=line.in_legal_minor,
            claimed_paid_minor=line.claimed_paid_minor,
            due_now_minor=line.due_now_minor,
        )
        for position, line in enumerate(n.lines)
    ]


def decision(
    business_date: date,
    customer_id: str,
    currency: str,
    outcome: str,
    detail: str,
    notice_id: str | None,
    now: datetime,
) -> Row:
    return dict(
        business_date=business_date,
        customer_id=customer_id,
        currency=currency,
        outcome=outcome,
        detail=detail[:200],
        notice_id=notice_id,
        decided_at=now,
    )


def write_off(w: WriteOff, version: int, created_at: datetime, now: datetime) -> Row:
    return dict(
        id=w.write_off_id,
        customer_id=w.customer_id,
        currency=w.currency,
        reason_code=w.reason_code,
        evidence=list(w.evidence),
        requester=w.requester,
        editors=sorted(w.editors),
        state=w.state.value,
        required_approvals=w.required_approvals,
        decided_by=w.decided_by or "",
        decision_note=w.decision_note,
        version=version,
        created_at=created_at,
        updated_at=now,
    )


def write_off_lines(w: WriteOff) -> list[Row]:
    return [
        dict(
            write_off_id=w.write_off_id,
            invoice_id=line.invoice_id,
            position=i,
            amount_minor=line.amount_minor,
        )
        for i, line in enumerate(w.lines)
    ]


def write_off_approval(write_off_id: str, a: Approval) -> Row:
    return dict(
        write_off_id=write_off_id, approver=a.user, approved_at=a.at, limit_minor=a.limit_minor
    )


def legal_case(case: LegalCase, now: datetime) -> Row:
    return dict(
        id=case.case_id,
        customer_id=case.customer_id,
        trigger=case.trigger.value,
        state=case.state.value,
        version=1,
        created_at=now,
        updated_at=now,
    )


def legal_snapshot_lines(case: LegalCase) -> list[Row]:
    return [
        dict(
            case_id=case.case_id,
            invoice_id=line.invoice_id,
            currency=snap.currency,
            position=i,
            as_of=snap.as_of,
            number=line.number,
            due_date=line.due_date,
            open_minor=line.open_minor,
            held_minor=line.held_minor,
            promised_minor=line.promised_minor,
            to_collect_minor=line.to_collect_minor,
        )
        for snap in case.snapshots
        for i, line in enumerate(snap.lines)
    ]


POSTING_REPORTED = "POSTING_REPORTED"  # a legal_events kind beside the LegalState values


def legal_event(case_id: str, customer_id: str, event: LegalEvent) -> Row:
    return dict(
        id=new_id(),
        case_id=case_id,
        customer_id=customer_id,
        kind=event.state.value,
        allocation_id=None,
        actor=event.by,
        note=event.note[:2000],
        occurred_at=event.at,
    )


def legal_posting(
    case_id: str, customer_id: str, allocation_id: str, note: str, at: datetime
) -> Row:
    """Legal was told of this posting (once: allocation_id is unique)."""
    return dict(
        id=new_id(),
        case_id=case_id,
        customer_id=customer_id,
        kind=POSTING_REPORTED,
        allocation_id=allocation_id,
        actor="rule:legal-postings",
        note=note[:2000],
        occurred_at=at,
    )
