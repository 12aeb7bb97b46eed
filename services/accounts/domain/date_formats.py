"""Dates read in a strptime format, fast. An import reads three dates a row, and
`datetime.strptime` costs ~20 µs each (locale checks, its regex, a datetime to throw away).

`date_reader(fmt)` answers exactly as `datetime.strptime(text, fmt).date()`: formats made of %d,
%m and %Y with a literal between every two of them get an ASCII fast path, and any text the fast
path does not accept (or that is no real date) goes to strptime, so odd inputs get strptime's
answer or its ValueError. Separated fields split one way only, so where both accept a text they
read the same date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from itertools import pairwise

_DIRECTIVE = {"%d": "day", "%m": "month", "%Y": "year"}
_FIELD_RE = {"day": r"(?P<day>[0-9]{1,2})", "month": r"(?P<month>[0-9]{1,2})",
             "year": r"(?P<year>[0-9]{4})"}  # fmt: skip
_PIECE_RE = re.compile(r"%[dmY]|[^%\s]")  # a directive, or one literal (no %, no whitespace)


def date_reader(fmt: str) -> Callable[[str], date]:
    def slow(text: str) -> date:
        return datetime.strptime(text, fmt).date()

    pattern = _fast_pattern(fmt)
    if pattern is None:
        return slow
    match = pattern.fullmatch

    def read(text: str) -> date:
        found = match(text)
        if found is not None:
            try:
                return date(int(found["year"]), int(found["month"]), int(found["day"]))
            except ValueError:
                pass  # e.g. 2/30: strptime words the error
        return slow(text)

    return read


def _fast_pattern(fmt: str) -> re.Pattern[str] | None:
    pieces = _PIECE_RE.findall(fmt)
    directives = [p for p in pieces if p in _DIRECTIVE]
    if "".join(pieces) != fmt or sorted(directives) != ["%Y", "%d", "%m"]:
        return None
    if any(a in _DIRECTIVE and b in _DIRECTIVE for a, b in pairwise(pieces)):
        return None  # adjacent fields ("%m%d%Y") could split differently from strptime
    parts = (_FIELD_RE[_DIRECTIVE[p]] if p in _DIRECTIVE else re.escape(p) for p in pieces)
    return re.compile("".join(parts), re.ASCII)
