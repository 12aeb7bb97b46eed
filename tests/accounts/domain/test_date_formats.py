"""The fast date reader answers as strptime does: the same date, or a ValueError."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.accounts.domain.date_formats import date_reader

FORMATS = ["%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%m%d%Y", "%d %b %Y", "%Y-%m-%dT"]


def strptime_or_error(text: str, fmt: str):
    try:
        return datetime.strptime(text, fmt).date()
    except ValueError:
        return ValueError


def reader_or_error(text: str, fmt: str):
    try:
        return date_reader(fmt)(text)
    except ValueError:
        return ValueError


@pytest.mark.parametrize("fmt", FORMATS)
@given(text=st.text(alphabet="0123456789/.-T t\u0663 ", max_size=12))
def test_same_answer_as_strptime_on_any_text(fmt, text):
    assert reader_or_error(text, fmt) == strptime_or_error(text, fmt)


@pytest.mark.parametrize("fmt", FORMATS[:4])
@given(day=st.dates(min_value=date(1000, 1, 1)), padded=st.booleans())
def test_same_answer_as_strptime_on_real_dates(fmt, day, padded):
    text = day.strftime(fmt)
    if not padded:  # "1/2/2013" as spreadsheets write it
        text = text.replace(f"{day.month:02d}", str(day.month), 1)
    assert reader_or_error(text, fmt) == strptime_or_error(text, fmt)


def test_edge_texts():
    read = date_reader("%m/%d/%Y")
    assert read("1/2/2013") == date(2013, 1, 2)
    assert read("12/31/2013") == date(2013, 12, 31)
    for bad in ("2/30/2013", "13/1/2013", "0/1/2013", "1/2/13", "1/2/2013 ", "01/02/02013"):
        assert reader_or_error(bad, "%m/%d/%Y") is ValueError, bad
    assert read("1/ 2/2013") == datetime.strptime("1/ 2/2013", "%m/%d/%Y").date()  # strptime's
