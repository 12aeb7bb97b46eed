"""A ReportSchedule message as a Schedule (common/reports/schedules.py), every field problem
reported at once."""

from __future__ import annotations

import re
from datetime import time

from common.errors import Violations
from common.reports.schedules import (
    LAST_DAY,
    ExportFormat,
    Frequency,
    Period,
    Recurrence,
    Schedule,
)
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


def schedule_from(message: pb.ReportSchedule, run_as: str) -> Schedule:
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
        v.require(
            bool(_ADDRESS.fullmatch(address)),
            f"report_schedule.recipients[{i}]",
            "not an e-mail address",
        )
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
