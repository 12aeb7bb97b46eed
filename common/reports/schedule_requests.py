"""A ReportSchedule message as a Schedule (common/reports/schedules.py), every field problem
reported at once, and a stored schedule as the message again."""

from __future__ import annotations

import re
from datetime import time

from common.errors import Violations
from common.protoconv import timestamp
from common.reports.schedule_model import ReportScheduleMixin
from common.reports.schedule_store import schedule_of
from common.reports.schedules import (
    LAST_DAY,
    ExportFormat,
    Frequency,
    Period,
    Recurrence,
    Schedule,
)
from common.reports.webhook import is_webhook
from common.webhooks import EndpointPolicy
from settle.common.v1 import reports_pb2 as pb

MAX_RECIPIENTS = 50
_ADDRESS = re.compile(r"[^@\s,<>\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}", re.ASCII)
_AT = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])", re.ASCII)
_FORMATS = {pb.REPORT_FORMAT_CSV: ExportFormat.CSV, pb.REPORT_FORMAT_XLSX: ExportFormat.XLSX}


def _choice(enum, text: str, field: str, v: Violations):
    try:
        return enum(text)
    except ValueError:
        v.add(field, f"must be one of {', '.join(e.value for e in enum)}")
        return None


def schedule_from(
    message: pb.ReportSchedule, run_as: str, webhooks: EndpointPolicy | None
) -> Schedule:
    """`webhooks`: where webhook recipients may point; None when webhook delivery is off."""
    v = Violations()
    v.require(bool(message.report), "report_schedule.report", "is required")
    period = _choice(Period, message.period, "report_schedule.period", v)
    frequency = _choice(Frequency, message.frequency, "report_schedule.frequency", v)
    at = _AT.fullmatch(message.at)
    v.require(at is not None, "report_schedule.at", "must be a local time HH:MM")
    export_format = _FORMATS.get(message.format)
    v.require(export_format is not None, "report_schedule.format", "is required (CSV or XLSX)")
    recipients = tuple(message.recipients)
    v.require(0 < len(recipients) <= MAX_RECIPIENTS, "report_schedule.recipients", "1 to 50")
    for i, address in enumerate(recipients):
        field = f"report_schedule.recipients[{i}]"
        if not is_webhook(address):
            v.require(bool(_ADDRESS.fullmatch(address)), field, "not an e-mail address")
        elif webhooks is None:
            v.add(field, "webhook delivery is not configured (REPORTS_WEBHOOK_SECRET)")
        else:
            webhooks.check_uri(address, field, v)
    weekly, monthly = frequency is Frequency.WEEKLY, frequency is Frequency.MONTHLY
    v.require(
        (message.weekday in range(1, 8)) if weekly else message.weekday == 0,
        "report_schedule.weekday",
        "1 (Monday) to 7 (Sunday) for a weekly schedule, unset otherwise",
    )
    day_ok = message.month_day == LAST_DAY or message.month_day in {str(d) for d in range(1, 32)}
    v.require(
        day_ok if monthly else not message.month_day,
        "report_schedule.month_day",
        "1 to 31 or 'last' for a monthly schedule, unset otherwise",
    )
    v.raise_if_any()
    assert at is not None and frequency is not None and period is not None
    assert export_format is not None
    try:
        recurrence = Recurrence(
            frequency,
            time(int(at.group(1)), int(at.group(2))),
            message.time_zone,
            weekday=message.weekday - 1 if weekly else None,
            month_day=(
                (LAST_DAY if message.month_day == LAST_DAY else int(message.month_day))
                if monthly
                else None
            ),
        )
    except ValueError as problem:
        v.add("report_schedule.time_zone", str(problem))
        v.raise_if_any()
        raise
    parameters: dict[str, object] = {}
    if message.bucket_bounds:
        parameters["bucket_bounds"] = list(message.bucket_bounds)
    if message.annual_rate:
        parameters["annual_rate"] = message.annual_rate
    if message.targets:
        parameters["targets"] = list(message.targets)
    return Schedule(
        report=message.report,
        parameters=parameters,
        period=period,
        recurrence=recurrence,
        format=export_format,
        recipients=recipients,
        run_as=run_as,
        send_only_if_data=message.send_only_if_data,
    )


_FORMAT_PB = {fmt: number for number, fmt in _FORMATS.items()}


def schedule_pb(row: ReportScheduleMixin) -> pb.ReportSchedule:
    schedule = schedule_of(row)
    r, stored = schedule.recurrence, schedule.parameters
    return pb.ReportSchedule(
        name=f"reportSchedules/{row.id}",
        report=schedule.report,
        period=schedule.period.value,
        frequency=r.frequency.value,
        at=f"{r.at.hour:02d}:{r.at.minute:02d}",
        time_zone=r.zone,
        weekday=0 if r.weekday is None else r.weekday + 1,
        month_day="" if r.month_day is None else str(r.month_day),
        format=_FORMAT_PB[schedule.format],
        recipients=schedule.recipients,
        send_only_if_data=schedule.send_only_if_data,
        bucket_bounds=[int(b) for b in _list(stored.get("bucket_bounds"))],
        annual_rate=str(stored.get("annual_rate", "")),
        targets=[str(t) for t in _list(stored.get("targets"))],
        run_as=row.run_as_subject,
        next_run_time=timestamp(row.next_due_at),
        active=row.active,
    )


def _list(value: object) -> list:
    return value if isinstance(value, list) else []
