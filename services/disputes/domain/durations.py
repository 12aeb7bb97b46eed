"""The one text form of a duration a client reads (history details): protobuf Duration's JSON
form — seconds, with 3, 6 or no fractional digits, a trailing `s`, a leading `-` when negative:
"1.300s", "-0.001256s", "28800s". History rows written before it hold Python's timedelta text
("-1 day, 23:59:59.998744"); `parse_duration` reads both, so old rows are shown the same way."""

from __future__ import annotations

import re
from datetime import timedelta

US = timedelta(microseconds=1)
# Keys of history details that hold a duration.
DURATION_KEYS = frozenset({"spent", "remaining", "target", "old_target", "lateness"})
_JSON = re.compile(r"^(-?)(\d+)(?:\.(\d{1,9}))?s$")
_TIMEDELTA = re.compile(r"^(?:(-?\d+) days?, )?(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?$")


def duration_text(value: timedelta) -> str:
    micros = value // US
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 1_000_000)
    if fraction == 0:
        return f"{sign}{seconds}s"
    if fraction % 1000 == 0:
        return f"{sign}{seconds}.{fraction // 1000:03d}s"
    return f"{sign}{seconds}.{fraction:06d}s"


def parse_duration(text: str | None) -> timedelta | None:
    """A duration in either form (None when `text` is neither)."""
    found = _JSON.match(text or "")
    if found is not None:
        sign, seconds, fraction = found.groups()
        value = timedelta(
            seconds=int(seconds), microseconds=int((fraction or "0")[:6].ljust(6, "0"))
        )
        return -value if sign else value
    found = _TIMEDELTA.match(text or "")
    if found is None:
        return None
    days, hours, minutes, seconds, fraction = found.groups()
    return timedelta(
        days=int(days or 0),
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds),
        microseconds=int((fraction or "0").ljust(6, "0")),
    )


def shown(details: dict[str, str]) -> dict[str, str]:
    """History details as a client reads them: every duration in the one text form."""
    result = dict(details)
    for key in DURATION_KEYS & details.keys():
        value = parse_duration(details[key])
        if value is not None:
            result[key] = duration_text(value)
    return result
