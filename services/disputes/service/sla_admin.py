"""SLA policies and business calendars as data. Changing either re-targets or re-plans the live
clocks that use it, in the same transaction, keeping the time they have already spent."""

from __future__ import annotations

import json

from common.actor import current_actor
from common.errors import AlreadyExists, InvalidArgument
from common.etag import check_etag
from common.idempotency import RequestKey, run_once
from common.ids import new_id
from common.listing import Page, Term
from services.disputes.data import admin_reads
from services.disputes.data import repository as repo
from services.disputes.data.admin_reads import CalendarRecord, SlaPolicyRecord
from services.disputes.data.models import CalendarRow, ClockRow, SlaPolicyRow
from services.disputes.domain.policies import CalendarSpec, Policy
from services.disputes.service.clocks import ClockDesk
from services.disputes.service.context import DisputesContext
from services.disputes.service.firing_telemetry import Firing, count

POLICY_FIELDS = (
    "display_name",
    "clock",
    "target",
    "reason_codes",
    "priorities",
    "risk_classes",
    "min_amount",
    "max_amount",
    "warning_percents",
    "calendar",
    "precedence",
    "active",
    "milestones",
)
CALENDAR_FIELDS = (
    "display_name",
    "time_zone",
    "working_hours",
    "country_code",
    "subdivision",
    "extra_holidays",
    "extra_working_days",
    "customer",
    "team",
)


def _policy_values(p: Policy, display_name: str) -> dict:
    return dict(
        display_name=display_name,
        clock_kind=p.clock,
        target_value=p.target.value,
        target_unit=p.target.unit.value,
        reason_codes=",".join(sorted(p.reason_codes)),
        priorities=",".join(sorted(p.priorities)),
        risk_classes=",".join(sorted(p.risk_classes)),
        amount_currency=p.amount_currency,
        min_amount_minor=p.min_amount_minor,
        max_amount_minor=p.max_amount_minor,
        warning_percents=",".join(map(str, p.warning_percents)),
        calendar_id=p.calendar_id,
        precedence=p.precedence,
        active=p.active,
        escalating_milestones=",".join(sorted(p.escalating)),
    )


_MASK_TO_COLUMNS = {
    "clock": ("clock_kind",),
    "target": ("target_value", "target_unit"),
    "min_amount": ("min_amount_minor", "amount_currency"),
    "max_amount": ("max_amount_minor", "amount_currency"),
    "calendar": ("calendar_id",),
    "milestones": ("escalating_milestones",),
}


async def _check_refs(session, p: Policy) -> None:
    known = await repo.reason_codes(session)
    unknown = sorted(p.reason_codes - known)
    if unknown:
        raise InvalidArgument.of("sla_policy.reason_codes", f"unknown reason codes {unknown}")
    if p.calendar_id and await session.get(CalendarRow, p.calendar_id) is None:
        raise InvalidArgument.of(
            "sla_policy.calendar", f"calendar {p.calendar_id!r} does not exist"
        )


async def create_policy(
    ctx: DisputesContext, policy: Policy, display_name: str, request: RequestKey
) -> SlaPolicyRecord:
    async def create(session):
        policy_id = policy.id or new_id()
        if await session.get(SlaPolicyRow, policy_id) is not None:
            raise AlreadyExists(f"SLA policy {policy_id} exists")
        await _check_refs(session, policy)
        now = ctx.clock.now()
        row = SlaPolicyRow(
            id=policy_id,
            **_policy_values(policy, display_name),
            version=1,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        return row.id, row

    async def replay(session, policy_id):
        return await session.get(SlaPolicyRow, policy_id)

    row = await run_once(ctx.db, ctx.idempotency, "CreateSlaPolicy", request, create, replay)
    ctx.reference_changed()  # committed: new cases use it at once
    return admin_reads.policy_record(row)


async def update_policy(
    ctx: DisputesContext, policy: Policy, display_name: str, etag: str, fields: tuple[str, ...]
) -> SlaPolicyRecord:
    async with ctx.db.transaction() as session:
        row = await repo.get_by_key(session, SlaPolicyRow, policy.id, "SLA policy", lock=True)
        check_etag(etag, row.id, row.version)
        await _check_refs(session, policy)
        values = _policy_values(policy, display_name)
        for f in fields:
            for column in _MASK_TO_COLUMNS.get(f, (f,)):
                setattr(row, column, values[column])
        row.version, row.updated_at = row.version + 1, ctx.clock.now()
        await session.flush()
        fired = await _refresh(ctx, session, ClockRow.policy_id == row.id)
        record = admin_reads.policy_record(row)
    count(ctx.metrics, fired)
    ctx.reference_changed()
    ctx.changed()
    return record


async def get_policy(ctx: DisputesContext, policy_id: str) -> SlaPolicyRecord:
    async with ctx.db.transaction() as session:
        row = await repo.get_by_key(session, SlaPolicyRow, policy_id, "SLA policy")
        return admin_reads.policy_record(row)


async def list_policies(
    ctx: DisputesContext, terms: list[Term], page: Page
) -> list[SlaPolicyRecord]:
    async with ctx.db.reading_connection() as conn:
        return await admin_reads.policies(conn, terms, page)


def _calendar_values(spec: CalendarSpec) -> dict:
    spec.build()  # validates: zone, hours, holidays country
    hours = {str(d): [list(i) for i in spans] for d, spans in (spec.hours or {}).items()}
    return dict(
        display_name=spec.display_name,
        time_zone=spec.time_zone,
        hours=json.dumps(hours, sort_keys=True) if spec.hours is not None else "",
        country_code=spec.country or "",
        subdivision=spec.subdivision or "",
        extra_holidays=",".join(d.isoformat() for d in sorted(spec.extra_holidays)),
        extra_working_days=",".join(d.isoformat() for d in sorted(spec.extra_working_days)),
        customer_id=spec.customer_id,
        team=spec.team or "",
    )


_CAL_MASK = {
    "working_hours": ("hours",),
    "country_code": ("country_code",),
    "customer": ("customer_id",),
}


async def _customer_free(session, spec: CalendarSpec) -> None:
    if spec.customer_id:
        other = await repo.customer_calendar_id(session, spec.customer_id)
        if other is not None and other != spec.id:
            raise AlreadyExists(f"customer already has calendar {other}")


async def create_calendar(
    ctx: DisputesContext, spec: CalendarSpec, request: RequestKey
) -> CalendarRecord:
    values = _calendar_values(spec)

    async def create(session):
        calendar_id = spec.id or new_id()
        if await session.get(CalendarRow, calendar_id) is not None:
            raise AlreadyExists(f"calendar {calendar_id} exists")
        await _customer_free(session, spec)
        now = ctx.clock.now()
        row = CalendarRow(id=calendar_id, **values, version=1, created_at=now, updated_at=now)
        session.add(row)
        await session.flush()
        return row.id, row

    async def replay(session, calendar_id):
        return await session.get(CalendarRow, calendar_id)

    row = await run_once(ctx.db, ctx.idempotency, "CreateCalendar", request, create, replay)
    ctx.reference_changed()  # committed: new cases use it at once
    return admin_reads.calendar_record(row)


async def update_calendar(
    ctx: DisputesContext, spec: CalendarSpec, etag: str, fields: tuple[str, ...]
) -> CalendarRecord:
    values = _calendar_values(spec)
    async with ctx.db.transaction() as session:
        row = await repo.get_by_key(session, CalendarRow, spec.id, "calendar", lock=True)
        check_etag(etag, row.id, row.version)
        if "customer" in fields:
            await _customer_free(session, spec)
        for f in fields:
            for column in _CAL_MASK.get(f, (f,)):
                setattr(row, column, values[column])
        row.version, row.updated_at = row.version + 1, ctx.clock.now()
        await session.flush()
        fired = await _refresh(ctx, session, ClockRow.calendar_id == row.id)
        record = admin_reads.calendar_record(row)
    count(ctx.metrics, fired)
    ctx.reference_changed()
    ctx.changed()
    return record


async def get_calendar(ctx: DisputesContext, calendar_id: str) -> CalendarRecord:
    async with ctx.db.transaction() as session:
        row = await repo.get_by_key(session, CalendarRow, calendar_id, "calendar")
        return admin_reads.calendar_record(row)


async def list_calendars(ctx: DisputesContext, page: Page) -> list[CalendarRecord]:
    async with ctx.db.reading_connection() as conn:
        return await admin_reads.calendars(conn, page)


async def _refresh(ctx: DisputesContext, session, condition) -> list[Firing]:
    """Re-target (new policy choice or target) and re-plan every live clock matching `condition`;
    returns the milestones that were due and fired first, to count once committed. Cases are
    locked in id order so concurrent refreshes cannot deadlock."""
    case_ids = await repo.cases_with_live_clocks(session, condition)
    if not case_ids:
        return []
    fired: list[Firing] = []
    policies = await repo.active_policies(session)
    now, actor = ctx.clock.now(), current_actor().subject
    for case_id in case_ids:
        case = await repo.get_dispute(session, case_id, lock=True, options=repo.WORK)
        desk = ClockDesk(ctx, session, case, now, actor)
        await desk.load()
        await desk.retarget(policies)
        for row in desk.live().values():
            await desk.replan(row)
        fired += desk.firings
    return fired
