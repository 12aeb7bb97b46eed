"""Every duration a client reads in history details has one text form, protobuf Duration JSON."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.disputes.domain.durations import duration_text, parse_duration, shown


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(seconds=1.3), "1.300s"),
        (timedelta(hours=8), "28800s"),
        (timedelta(microseconds=-1256), "-0.001256s"),
        (timedelta(seconds=-2, milliseconds=-500), "-2.500s"),
        (timedelta(0), "0s"),
    ],
)
def test_durations_are_written_as_protobuf_duration_json(value, text):
    assert duration_text(value) == text


@given(st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)))
def test_the_text_reads_back_exactly(value):
    assert parse_duration(duration_text(value)) == value


def test_rows_written_before_show_their_timedelta_text_in_the_same_form():
    legacy = {"remaining": "-1 day, 23:59:59.998744", "target": "1 day, 0:00:00", "clock": "X"}
    assert shown(legacy) == {"remaining": "-0.001256s", "target": "86400s", "clock": "X"}
