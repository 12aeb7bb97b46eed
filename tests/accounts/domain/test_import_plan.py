"""The whole-file checks in two passes: the second yields rows while it reads, so an import holds
a chunk of parsed rows, not the file's."""

from __future__ import annotations

from services.accounts.domain.csv_import import ColumnMapping, ParsedRow
from services.accounts.domain.import_plan import plan_rows, survey

MAPPING = ColumnMapping(
    customer_ref="cust",
    invoice_number="inv",
    invoice_date="idate",
    due_date="ddate",
    amount="amt",
    country="ctry",
)
LINES = ["cust,inv,idate,ddate,amt,ctry"] + [
    f"C{n % 7},{n:04d},1/2/2013,2/1/2013,1.00,US" for n in range(1, 501)
]


def test_pass_two_yields_each_row_as_it_reads():
    found = survey(LINES, MAPPING, "EUR")
    assert (found.rows_read, found.repeated) == (500, frozenset())
    read = 0

    def counted():
        nonlocal read
        for line in LINES:
            read += 1
            yield line

    outcomes = plan_rows(counted(), MAPPING, "EUR", found)
    first = next(outcomes)
    assert isinstance(first, ParsedRow) and first.line_no == 2
    assert read < 10  # not the whole file
    assert len(list(outcomes)) == 499


def test_rows_of_a_repeated_number_wait_for_the_end_of_the_file():
    lines = [*LINES[:3], LINES[1], *LINES[3:]]  # line 4 repeats line 2
    found = survey(lines, MAPPING, "EUR")
    assert found.repeated == {"0001"}
    outcomes = list(plan_rows(lines, MAPPING, "EUR", found))
    assert [o.line_no for o in outcomes[:2]] == [3, 5]
    assert [(type(o).__name__, o.line_no) for o in outcomes[-2:]] == [
        ("ParsedRow", 2),
        ("DuplicateRow", 4),
    ]
