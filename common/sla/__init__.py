"""Pure SLA-clock arithmetic shared by the disputes and escalation services: business calendars
(`calendar`) and immutable SLA clocks (`clock`). No I/O and no reading of the current time."""

from common.sla.calendar import BusinessCalendar, HolidayLookup
from common.sla.clock import (
    DEFAULT_THRESHOLDS,
    Clock,
    ClockKind,
    ClockStatus,
    Milestone,
    PauseReason,
    Threshold,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "BusinessCalendar",
    "Clock",
    "ClockKind",
    "ClockStatus",
    "HolidayLookup",
    "Milestone",
    "PauseReason",
    "Threshold",
]
