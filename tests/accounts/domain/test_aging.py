"""Aging buckets and the aging computation: every item in exactly one bucket, exact sums."""

from __future__ import annotations

import calendar
import csv
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import InvalidArgument
from services.accounts.domain.aging import (
    DEFAULT_BUCKETS,
    ROLLUP_BUCKETS,
    AgeBasis,
    AgingBuckets,
    Bucket,
    OpenItem,
    age,
    days_past_due,
)
from services.accounts.domain.csv_import import ColumnMapping
from services.accounts.domain.import_plan import validate_file
from tests.support.ar_sample import CLEAN, sample

AS_OF = date(2013, 6, 30)

# --- buckets ----------------------------------------------------------------------------------


def test_default_buckets():
    assert DEFAULT_BUCKETS.bounds() == (
        ("CURRENT", None, 0),
        ("D1_30", 1, 30),
        ("D31_60", 31, 60),
        ("D61_90", 61, 90),
        ("D91_120", 91, 120),
        ("D120_PLUS", 121, None),
    )
    assert [b.label for b in DEFAULT_BUCKETS] == [
        "Current",
        "1–30",
        "31–60",
        "61–90",
        "91–120",
        "120+",
    ]


def test_rollup_buckets():
    assert ROLLUP_BUCKETS.codes == ("D0_30", "D31_60", "D61_90", "D90_PLUS")
    assert [b.label for b in ROLLUP_BUCKETS] == ["0–30", "31–60", "61–90", "90+"]
    assert ROLLUP_BUCKETS.bucket_for(-400).code == ROLLUP_BUCKETS.bucket_for(30).code == "D0_30"


@pytest.mark.parametrize(
    ("days", "code"),
    [
        (-10_000, "CURRENT"),
        (-1, "CURRENT"),
        (0, "CURRENT"),
        (1, "D1_30"),
        (30, "D1_30"),
        (31, "D31_60"),
        (60, "D31_60"),
        (61, "D61_90"),
        (90, "D61_90"),
        (91, "D91_120"),
        (120, "D91_120"),
        (121, "D120_PLUS"),
        (10_000, "D120_PLUS"),
    ],
)
def test_bucket_edges(days, code):
    assert DEFAULT_BUCKETS.bucket_for(days).code == code


@pytest.mark.parametrize(
    "spec", ["", " ", "30,0", "0,0", "a", "-5,10", "0,,30", "1.5", "0;30", "999999", None, 30]
)
def test_parse_rejects_bad_specs(spec):
    with pytest.raises(InvalidArgument) as err:
        AgingBuckets.parse(spec)
    assert err.value.violations[0].field == "buckets"


def test_parse_accepts_spaces_and_a_single_bound():
    assert AgingBuckets.parse(" 0, 30 ,60 ") == AgingBuckets.parse("0,30,60")
    assert AgingBuckets.parse("0").bounds() == (("CURRENT", None, 0), ("D0_PLUS", 1, None))


@pytest.mark.parametrize(
    "buckets",
    [
        (),  # nothing
        (Bucket("A", "a", None, 0), Bucket("B", "b", 2, None)),  # gap at 1
        (Bucket("A", "a", None, 5), Bucket("B", "b", 5, None)),  # 5 in both
        (Bucket("A", "a", 0, 5), Bucket("B", "b", 6, None)),  # nothing below 0
        (Bucket("A", "a", None, 5), Bucket("B", "b", 6, 9)),  # nothing above 9
        (Bucket("A", "a", None, 5), Bucket("A", "b", 6, None)),  # duplicate code
        (Bucket("a b", "a", None, 5), Bucket("B", "b", 6, None)),  # code unsafe in SQL
        (Bucket("A", "a", None, 5), Bucket("B", "b", 6, 3), Bucket("C", "c", 4, None)),
        (Bucket("A", "a", None, 5.5), Bucket("B", "b", 6, None)),  # not whole days
    ],
)
def test_invalid_bucket_sets(buckets):
    with pytest.raises(InvalidArgument):
        AgingBuckets(buckets)


bound_lists = st.lists(st.integers(0, 400), min_size=1, max_size=8, unique=True).map(sorted)


@given(bound_lists, st.integers(-1000, 1000))
def test_every_day_lands_in_exactly_one_bucket(bounds, days):
    buckets = AgingBuckets.parse(",".join(map(str, bounds)))
    holders = [b for b in buckets if b.contains(days)]
    assert holders == [buckets.bucket_for(days)]
    assert len(buckets) == len(bounds) + 1
    # the SQL bounds say the same thing
    hits = [
        code
        for code, low, high in buckets.bounds()
        if (low is None or days >= low) and (high is None or days <= high)
    ]
    assert hits == [holders[0].code]


# --- days past due ----------------------------------------------------------------------------


def test_days_past_due():
    assert days_past_due(date(2013, 2, 1), date(2013, 2, 1)) == 0
    assert days_past_due(date(2013, 2, 1), date(2013, 3, 3)) == 30
    assert days_past_due(date(2013, 2, 1), date(2013, 1, 30)) == -2
    posted = date(2013, 1, 2)
    got = days_past_due(
        date(2013, 2, 1), date(2013, 2, 1), basis=AgeBasis.POSTING_DATE, posting_date=posted
    )
    assert got == 30
    with pytest.raises(InvalidArgument):
        days_past_due(date(2013, 2, 1), date(2013, 2, 1), basis=AgeBasis.POSTING_DATE)


# --- open items and the computation -----------------------------------------------------------


def item(open_minor, held_minor=0, due=date(2013, 6, 1), customer="C1", currency="USD", **kw):
    return OpenItem(customer, f"I{open_minor}", currency, due, open_minor, held_minor, **kw)


@pytest.mark.parametrize(("open_minor", "held_minor"), [(100, 101), (100, -1), (-100, 1)])
def test_held_must_lie_within_open(open_minor, held_minor):
    with pytest.raises(InvalidArgument) as err:
        item(open_minor, held_minor)
    assert err.value.violations[0].field == "held_minor"


def test_open_item_types():
    with pytest.raises(TypeError):
        item(Decimal("1.00"))
    with pytest.raises(InvalidArgument):
        item(100, currency="XYZ")
    assert item(-500).held_minor == 0  # an open credit may be aged, never held


def test_age_small_portfolio():
    items = [
        item(10_000, 2_500, due=date(2013, 7, 15)),  # not yet due
        item(5_000, 0, due=date(2013, 6, 30)),  # due today: still current
        item(7_000, 7_000, due=date(2013, 6, 29)),  # 1 day late, fully disputed
        item(300, 0, due=date(2013, 1, 1), customer="C2"),  # 180 days
        item(999, 0, due=date(2013, 5, 1), currency="JPY"),
    ]
    report = age(items, AS_OF)
    c1 = report.customer("C1", "USD")
    assert (c1.bucket("CURRENT").collectible_minor, c1.bucket("CURRENT").held_minor) == (
        12_500,
        2_500,
    )
    assert (c1.bucket("D1_30").collectible_minor, c1.bucket("D1_30").held_minor) == (0, 7_000)
    assert (c1.open_minor, c1.held_minor, c1.collectible_minor, c1.item_count) == (
        22_000,
        9_500,
        12_500,
        3,
    )
    assert report.customer("C2", "USD").bucket("D120_PLUS").open_minor == 300
    assert report.customer("C2", "EUR") is None
    assert [r.currency for r in report.portfolio] == ["JPY", "USD"]
    assert report.total("USD").open_minor == 22_300 and report.total("JPY").open_minor == 999
    assert report.total("JPY").bucket("D31_60").item_count == 1
    rollup = age(items, AS_OF, ROLLUP_BUCKETS)
    assert rollup.total("USD").bucket("D0_30").open_minor == 22_000


def test_age_by_posting_date():
    report = age(
        [item(100, due=date(2013, 7, 30), posting_date=date(2013, 5, 1))],
        AS_OF,
        basis=AgeBasis.POSTING_DATE,
    )
    assert report.total("USD").bucket("D31_60").open_minor == 100


@st.composite
def open_items(draw):
    open_minor = draw(st.integers(-(10**6), 10**12))
    held = draw(st.integers(0, max(open_minor, 0)))
    due = date(2013, 6, 30) + timedelta(days=draw(st.integers(-400, 100)))
    customer = draw(st.sampled_from(["C1", "C2", "C3"]))
    currency = draw(st.sampled_from(["USD", "EUR", "JPY"]))
    return OpenItem(customer, f"INV{draw(st.integers(0, 99))}", currency, due, open_minor, held)


@given(st.lists(open_items(), max_size=40), st.sampled_from([DEFAULT_BUCKETS, ROLLUP_BUCKETS]))
def test_aging_properties(items, buckets):
    report = age(items, AS_OF, buckets)
    for currency in {i.currency for i in items}:
        mine = [i for i in items if i.currency == currency]
        total = report.total(currency)
        assert total.open_minor == sum(i.open_minor for i in mine)  # sum of buckets == open
        assert total.held_minor == sum(i.held_minor for i in mine)
        assert total.collectible_minor + total.held_minor == total.open_minor
        assert total.item_count == len(mine)  # each item counted once
        expected = Counter(buckets.bucket_for((AS_OF - i.due_date).days).code for i in mine)
        assert {b.code: b.item_count for b in total.buckets if b.item_count} == dict(expected)
        customers = [r for r in report.customers if r.currency == currency]
        for index, code in enumerate(buckets.codes):
            assert total.buckets[index].code == code
            by_customer = sum(r.buckets[index].open_minor for r in customers)
            assert by_customer == total.buckets[index].open_minor
    assert len(report.portfolio) == len({i.currency for i in items})


# --- the clean sample file as of 2013-06-30 ---------------------------------------------------


def _us_date(text):
    month, day, year = map(int, text.split("/"))
    return date(year, month, day)


def _raw_aging(as_of):
    """Independent of the code under test: csv + Decimal + hand-written bucket edges."""
    edges = [(0, "CURRENT"), (30, "D1_30"), (60, "D31_60"), (90, "D61_90"), (120, "D91_120")]
    collectible, held, count = defaultdict(Decimal), defaultdict(Decimal), Counter()
    with CLEAN.open(newline="") as handle:
        for row in csv.DictReader(handle):
            invoiced, due = _us_date(row["InvoiceDate"]), _us_date(row["DueDate"])
            if not invoiced <= as_of < _us_date(row["SettledDate"]):
                continue
            days = (as_of - due).days
            code = next((c for edge, c in edges if days <= edge), "D120_PLUS")
            target = held if row["Disputed"] == "Yes" else collectible
            target[code] += Decimal(row["InvoiceAmount"])
            count[code] += 1
    return collectible, held, count


@pytest.fixture(scope="module")
def clean_rows():
    with sample(CLEAN).open(newline="") as handle:
        return validate_file(handle, ColumnMapping.sample_file(), "USD").rows


def _aged(rows, as_of, buckets=DEFAULT_BUCKETS):
    items = [
        OpenItem(
            r.customer_ref,
            r.invoice_number,
            "USD",
            r.due_date,
            r.amount.minor,
            r.amount.minor if r.disputed else 0,
        )  # a dispute holds the whole invoice
        for r in rows
        if r.invoice_date <= as_of < r.settled_date
    ]
    return age(items, as_of, buckets)


def test_clean_file_aging_on_2013_06_30(clean_rows):
    total = _aged(clean_rows, AS_OF).total("USD")
    figures = {
        b.code: (b.collectible_minor, b.held_minor, b.item_count)
        for b in total.buckets
        if b.item_count
    }
    # USD 3,053.54 collectible + 1,230.75 held current; 259.47 + 576.09 in 1–30; nothing older
    assert figures == {"CURRENT": (305354, 123075, 72), "D1_30": (25947, 57609, 12)}
    assert (total.open_minor, total.held_minor, total.item_count) == (511985, 180684, 84)
    collectible, held, count = _raw_aging(AS_OF)
    for b in total.buckets:
        assert Decimal(b.collectible_minor) / 100 == collectible[b.code]
        assert Decimal(b.held_minor) / 100 == held[b.code]
        assert b.item_count == count[b.code]


MONTH_ENDS = [date(y, m, calendar.monthrange(y, m)[1]) for y in (2012, 2013) for m in range(1, 13)]


@pytest.mark.parametrize("as_of", MONTH_ENDS, ids=str)
def test_clean_file_aging_matches_raw_rows_every_month_end(clean_rows, as_of):
    total = _aged(clean_rows, as_of).total("USD")
    collectible, held, count = _raw_aging(as_of)
    for b in total.buckets:
        assert (Decimal(b.collectible_minor) / 100, Decimal(b.held_minor) / 100, b.item_count) == (
            collectible[b.code],
            held[b.code],
            count[b.code],
        )


def test_clean_file_reaches_31_60_and_rolls_up(clean_rows):
    # the only month-end with an item beyond 30 days: due 12/18/2012, settled 2/1/2013, 86.39
    report = _aged(clean_rows, date(2013, 1, 31))
    late = report.total("USD").bucket("D31_60")
    assert (late.item_count, late.open_minor) == (1, 8639)
    rollup = _aged(clean_rows, date(2013, 1, 31), ROLLUP_BUCKETS).total("USD")
    detail = report.total("USD")
    first_30 = detail.bucket("CURRENT").open_minor + detail.bucket("D1_30").open_minor
    assert rollup.bucket("D0_30").open_minor == first_30
    assert rollup.open_minor == detail.open_minor
    per_customer = sum(r.open_minor for r in report.customers)
    assert per_customer == detail.open_minor
