"""Open-items CSV import: the two real sample files, then every rule on small synthetic files."""

from __future__ import annotations

import dataclasses
import functools
import io
from collections import Counter
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import InvalidArgument
from common.money import Money
from services.accounts.domain.csv_import import (
    ColumnMapping,
    DuplicateRow,
    ParsedRow,
    Reason,
    RejectedRow,
    parse_rows,
)
from services.accounts.domain.import_plan import validate_file
from tests.support.ar_sample import CLEAN, DIRTY, SAMPLE_DIR, sample

SAMPLE = ColumnMapping.sample_file()


@pytest.fixture(scope="module")
def data_dir():
    sample(CLEAN)  # skips on a laptop without ../shared, fails under CI=true
    sample(DIRTY)
    return SAMPLE_DIR


@functools.cache  # plans are immutable: parse each real file once per mapping
def plan_of(path, mapping=SAMPLE):
    with path.open(newline="") as handle:
        return validate_file(handle, mapping, "USD")


def raw_rows(path):
    """(line number, fields) straight from the text; these files contain no quotes."""
    lines = path.read_text().splitlines()
    return [(number, line.split(",")) for number, line in enumerate(lines[1:], start=2)]


# --- the real files ---------------------------------------------------------------------------


def test_strptime_reads_unpadded_us_dates():
    assert datetime.strptime("1/2/2013", "%m/%d/%Y").date() == date(2013, 1, 2)


def test_clean_file_validates_whole(data_dir):
    plan = plan_of(CLEAN)
    assert (plan.rows_read, len(plan.rows), plan.rejected, plan.duplicates) == (2466, 2466, (), ())
    assert len({r.customer_ref for r in plan.rows}) == 100
    assert Counter(r.country for r in plan.rows) == {
        "391": 616,
        "406": 561,
        "770": 506,
        "897": 396,
        "818": 387,
    }
    assert sum(r.disputed for r in plan.rows) == 561
    assert {(r.due_date - r.invoice_date).days for r in plan.rows} == {30}
    assert max(r.settled_date for r in plan.rows) == date(2014, 1, 9)
    first = plan.rows[0]
    assert (first.line_no, first.invoice_number) == (2, "0000611365")  # leading zeros kept
    assert first.amount == Money(5594, "USD")
    raw_total = sum(Decimal(fields[6]) for _, fields in raw_rows(CLEAN))
    assert sum(r.amount.minor for r in plan.rows) == raw_total * 100 == 14_770_318


def test_clean_file_reads_from_plain_lines_too(data_dir):
    """CRLF endings, lines without endings, or a stream: the same rows."""
    lines = CLEAN.read_text().splitlines()
    assert validate_file(lines, SAMPLE, "USD").rows == plan_of(CLEAN).rows


def test_dirty_file_rejections(data_dir):
    plan = plan_of(DIRTY)
    counts = (plan.rows_read, len(plan.rows), len(plan.rejected), len(plan.duplicates))
    assert counts == (2586, 2200, 386, 0)
    assert plan.reason_counts(primary_only=True) == {"INVOICE_NUMBER_PATTERN": 386}
    assert plan.reason_counts() == {"COUNTRY_CONFLICT": 101, "INVOICE_NUMBER_PATTERN": 386}
    # recompute the defects from the raw text, independently of the importer
    raw = raw_rows(DIRTY)
    country_of = {fields[1]: fields[0] for _, fields in raw_rows(CLEAN)}
    bad_numbers = {n for n, f in raw if len(f[3]) != 10}
    wrong_country = {n for n, f in raw if country_of[f[1]] != f[0]}
    assert (len(bad_numbers), len(wrong_country)) == (386, 101)
    by_reason = {
        code: {r.line_no for r in plan.rejected if code in r.reasons}
        for code in (Reason.INVOICE_NUMBER_PATTERN, Reason.COUNTRY_CONFLICT)
    }
    assert by_reason[Reason.INVOICE_NUMBER_PATTERN] == bad_numbers
    assert by_reason[Reason.COUNTRY_CONFLICT] == wrong_country
    assert [r.line_no for r in plan.rejected] == sorted(bad_numbers)
    assert plan.rejected[0] == RejectedRow(
        3,
        Reason.INVOICE_NUMBER_PATTERN,
        "invoiceNumber: '136962706' does not match ^\\d{10}$; "
        "customer 9174-IYKOC is in 391 elsewhere, not 897",
        (Reason.INVOICE_NUMBER_PATTERN, Reason.COUNTRY_CONFLICT),
    )


def test_dirty_file_blank_unmapped_columns_are_not_defects(data_dir):
    blank = {n for n, f in raw_rows(DIRTY) if f[2] == "" and f[9] == ""}
    assert len(blank) == 120
    no_pattern = dataclasses.replace(SAMPLE, invoice_number_pattern=None)
    plan = plan_of(DIRTY, no_pattern)
    assert plan.reason_counts() == {"COUNTRY_CONFLICT": 101}
    assert len([r for r in plan.rows if r.line_no in blank]) == 19


def test_dirty_rows_compared_with_the_imported_clean_file(data_dir):
    """What a re-import would see: SOURCES.md's 32 'differing' rows differ only in how the amount
    is written ("38.0" for "38"), so their fingerprints equal the clean rows' and nothing is
    imported twice; 266 rows match only once their lost leading zeros are restored."""
    imported = {r.invoice_number: r.fingerprint() for r in plan_of(CLEAN).rows}
    rows = plan_of(DIRTY, dataclasses.replace(SAMPLE, invoice_number_pattern=None)).rows
    padded = [dataclasses.replace(r, invoice_number=r.invoice_number.zfill(10)) for r in rows]
    known = [r for r in padded if r.invoice_number in imported]
    assert (len(known), len(padded) - len(known)) == (2466, 19)
    assert sum(r.invoice_number not in imported for r in rows) == 266 + 19
    assert all(r.fingerprint() == imported[r.invoice_number] for r in known)
    clean_text = {f[3]: f[6] for _, f in raw_rows(CLEAN)}
    retyped = [f for _, f in raw_rows(DIRTY) if clean_text.get(f[3].zfill(10), f[6]) != f[6]]
    assert len(retyped) == 32
    assert all(f[6] == clean_text[f[3].zfill(10)] + ".0" for f in retyped)


def test_fingerprint_is_stable_and_content_only(data_dir):
    first = plan_of(CLEAN).rows[0]
    assert first.fingerprint() == "3282ea639cbf10017992f26d583ac021e2656ea90a4fb61d393360d88819acbf"
    assert dataclasses.replace(first, line_no=99).fingerprint() == first.fingerprint()
    for change in (
        {"amount": Money(5595, "USD")},
        {"amount": Money(5594, "EUR")},
        {"disputed": None},
        {"country": "818"},
        {"invoice_number": "611365"},
    ):
        assert dataclasses.replace(first, **change).fingerprint() != first.fingerprint()


# --- rules on synthetic files -----------------------------------------------------------------

HEADER = "cust,inv,idate,ddate,amt,sdate,ctry,disp"
MAPPING = ColumnMapping(
    customer_ref="cust",
    invoice_number="inv",
    invoice_date="idate",
    due_date="ddate",
    amount="amt",
    settled_date="sdate",
    country="ctry",
    disputed="disp",
    invoice_number_pattern=r"^\d{4}$",
)
GOOD = "C1,0001,1/2/2013,2/1/2013,10.5,2/3/2013,US,No"


def run(*rows, currency="USD", header=HEADER, mapping=MAPPING):
    return validate_file(io.StringIO("\n".join([header, *rows]) + "\n"), mapping, currency)


def test_good_row_parsed():
    plan = run(GOOD, "C1,0002,12/31/2013,1/30/2014,7,,US,")
    assert plan.rows == (
        ParsedRow(
            2,
            "C1",
            "0001",
            date(2013, 1, 2),
            date(2013, 2, 1),
            Money(1050, "USD"),
            date(2013, 2, 3),
            "US",
            False,
        ),
        ParsedRow(
            3,
            "C1",
            "0002",
            date(2013, 12, 31),
            date(2014, 1, 30),
            Money(700, "USD"),
            None,
            "US",
            None,
        ),
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("C1,0001,1/2/2013,2/1/2013,,,US,No", Reason.MISSING_FIELD),
        (",0001,1/2/2013,2/1/2013,5,,US,No", Reason.MISSING_FIELD),
        ("C1,0001,2/30/2013,3/1/2013,5,,US,No", Reason.INVALID_DATE),
        ("C1,0001,2013-01-02,2/1/2013,5,,US,No", Reason.INVALID_DATE),
        ("C1,0001,1/2/2013,2/1/2013,5,13/1/2013,US,No", Reason.INVALID_DATE),
        ("C1,0001,1/2/2013,2/1/2013,1e3,,US,No", Reason.INVALID_AMOUNT),
        ('C1,0001,1/2/2013,2/1/2013,"1,000.00",,US,No', Reason.INVALID_AMOUNT),
        ("C1,0001,1/2/2013,2/1/2013,12.345,,US,No", Reason.INVALID_AMOUNT),
        ("C1,0001,1/2/2013,2/1/2013,NaN,,US,No", Reason.INVALID_AMOUNT),
        ("C1,0001,1/2/2013,2/1/2013,0,,US,No", Reason.AMOUNT_NOT_POSITIVE),
        ("C1,0001,1/2/2013,2/1/2013,-5.00,,US,No", Reason.AMOUNT_NOT_POSITIVE),
        ("C1,0001,1/2/2013,2/1/2013,5,,US,Maybe", Reason.INVALID_FLAG),
        ("C1,0001,1/2/2013,1/1/2013,5,,US,No", Reason.DUE_BEFORE_INVOICE),
        ("C1,0001,1/2/2013,2/1/2013,5,1/1/2013,US,No", Reason.SETTLED_BEFORE_INVOICE),
        ("C1,1,1/2/2013,2/1/2013,5,,US,No", Reason.INVOICE_NUMBER_PATTERN),
        ("C1,000١,1/2/2013,2/1/2013,5,,US,No", Reason.INVOICE_NUMBER_PATTERN),  # not ASCII
        ("C1,0001,1/2/2013,2/1/2013,5,,US", Reason.WRONG_COLUMN_COUNT),
        ("C1,0001,1/2/2013,2/1/2013,5,,US,No,extra", Reason.WRONG_COLUMN_COUNT),
    ],
)
def test_each_rejection_reason(row, reason):
    plan = run(GOOD.replace("0001", "0009"), row)
    assert [r.line_no for r in plan.rows] == [2]
    assert [(r.line_no, r.reason_code) for r in plan.rejected] == [(3, reason)]
    assert plan.rejected[0].message


def test_a_row_reports_all_its_defects():
    plan = run("C1,12,1/2/2013,xx,0,1/1/2013,US,?")
    assert plan.rejected[0].reasons == (
        "INVALID_DATE",
        "AMOUNT_NOT_POSITIVE",
        "INVALID_FLAG",
        "SETTLED_BEFORE_INVOICE",
        "INVOICE_NUMBER_PATTERN",
    )


def test_currency_decides_the_decimals():
    assert run("C1,0001,1/2/2013,2/1/2013,10.5,,JP,No", currency="JPY").reason_counts() == {
        "INVALID_AMOUNT": 1
    }
    assert (
        run("C1,0001,1/2/2013,2/1/2013,1.125,,KW,No", currency="KWD").rows[0].amount.minor == 1125
    )
    with pytest.raises(InvalidArgument):
        run(GOOD, currency="XYZ")


def test_country_majority_wins_and_ties_go_to_first_seen():
    rows = [GOOD.replace("0001", f"000{i}").replace("US", c) for i, c in enumerate("AABA", 1)]
    rows.append("C2,0005,1/2/2013,2/1/2013,5,,X,No")
    rows.append("C2,0006,1/2/2013,2/1/2013,5,,Y,No")
    rows.append("C2,0007,1/2/2013,2/1/2013,5,,,No")  # a blank country disagrees with nobody
    plan = run(*rows)
    assert [(r.line_no, r.reason_code) for r in plan.rejected] == [
        (4, "COUNTRY_CONFLICT"),
        (7, "COUNTRY_CONFLICT"),
    ]
    assert "customer C1 is in A elsewhere, not B" in plan.rejected[0].message


def test_repeated_invoice_numbers():
    same = GOOD.replace("10.5", "10.50")  # the same amount written differently is the same row
    other = GOOD.replace("10.5", "11")
    plan = run(GOOD, same, "C9,0002,1/2/2013,2/1/2013,1,,US,No", GOOD)
    assert [r.line_no for r in plan.rows] == [2, 4]
    assert plan.duplicates == (DuplicateRow(3, "0001", 2), DuplicateRow(5, "0001", 2))
    plan = run(GOOD, "C9,0002,1/2/2013,2/1/2013,1,,US,No", other)
    assert [r.line_no for r in plan.rows] == [3]
    assert [(r.line_no, r.reason_code) for r in plan.rejected] == [
        (2, "CONFLICTING_DUPLICATE"),
        (4, "CONFLICTING_DUPLICATE"),
    ]
    assert "lines 2, 4" in plan.rejected[0].message


def test_physical_line_numbers_blank_lines_bom_and_quotes():
    quoted = '"C1\nsecond line",0002,x,,,,,'  # one record over lines 4 and 5
    text = "\n".join(["\ufeff" + HEADER, "", GOOD, quoted, ",,,,,,,", GOOD.replace("0001", "3")])
    plan = validate_file(io.StringIO(text), MAPPING, "USD")
    assert [r.line_no for r in plan.rows] == [3]
    rejected = [(r.line_no, r.reason_code) for r in plan.rejected]
    assert rejected == [(4, "MISSING_FIELD"), (7, "INVOICE_NUMBER_PATTERN")]
    assert plan.rows_read == 3


def test_parse_rows_streams_row_level_results():
    results = list(parse_rows(io.StringIO(f"{HEADER}\n{GOOD}\n{GOOD}\nbad\n"), MAPPING, "USD"))
    assert [type(r) for r in results] == [ParsedRow, ParsedRow, RejectedRow]


def test_header_must_hold_every_mapped_column():
    with pytest.raises(InvalidArgument) as err:
        run(GOOD, header="cust,invoice,idate,ddate,amt,sdate,ctry,amt")
    fields = {v.field: v.description for v in err.value.violations}
    assert fields == {
        "mapping.invoice_number": "column 'inv' is not in the header",
        "mapping.amount": "column 'amt' appears 2 times",
        "mapping.disputed": "column 'disp' is not in the header",
    }
    with pytest.raises(InvalidArgument):
        validate_file([], MAPPING, "USD")


def test_optional_columns_may_be_unmapped():
    mapping = ColumnMapping("c", "i", "d1", "d2", "a")
    plan = validate_file(["c,i,d1,d2,a,other", "X,007,1/2/2013,2/1/2013,1.00,"], mapping, "EUR")
    assert plan.rows[0].invoice_number == "007" and plan.rows[0].settled_date is None
    assert (plan.rows[0].country, plan.rows[0].disputed) == (None, None)


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": ""},
        {"amount": "cust"},
        {"date_format": "%H:%M"},
        {"invoice_number_pattern": "("},
        {"true_words": ("Y",), "false_words": ("y",)},
        {"true_words": ()},
    ],
)
def test_bad_mappings(changes):
    with pytest.raises(InvalidArgument):
        dataclasses.replace(MAPPING, **changes)


def test_custom_words_and_date_format():
    mapping = dataclasses.replace(
        MAPPING, date_format="%Y-%m-%d", true_words=("J", "Ja"), false_words=("N", "Nein")
    )
    plan = run(
        "C1,0001,2013-01-02,2013-02-01,5,,DE,ja",
        "C1,0002,2013-01-02,2013-02-01,5,,DE,N",
        mapping=mapping,
    )
    assert [r.disputed for r in plan.rows] == [True, False]


VARIANTS = [
    GOOD,
    GOOD.replace("10.5", "11"),
    "C1,0002,1/2/2013,2/1/2013,1,,US,No",
    "C1,0002,1/2/2013,2/1/2013,1,,CA,No",
    "C2,x,1/2/2013,2/1/2013,1,,US,No",
    "",
    "a,b",
    "C3,0003,1/2/2013,2/1/2013,-1,,US,No",
    "C3,0004,1/2/2013,1/1/2013,1,,US,Yes",
]


@given(st.lists(st.sampled_from(VARIANTS), max_size=25))
def test_every_row_is_accounted_for_once(rows):
    plan = run(*rows)
    lines = [r.line_no for r in plan.rows] + [r.line_no for r in plan.rejected]
    lines += [d.line_no for d in plan.duplicates]
    assert len(lines) == len(set(lines)) == plan.rows_read == sum(1 for r in rows if r)
    assert len({r.invoice_number for r in plan.rows}) == len(plan.rows)  # nothing twice
