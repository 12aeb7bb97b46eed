"""The checks that need the whole file (csv_import's rules on countries and repeated invoice
numbers), in two passes over the lines, so a file is validated whole before anything is written
without every parsed row held at once (100,000 of them took the accounts process over 200 MB).

Pass one (`survey`) reads only the fields those checks compare: each customer's countries, and
which invoice numbers occur on more than one record. Pass two (`plan_rows`) parses record by
record and yields each outcome as soon as it is known; the rows of a repeated number wait for the
end of the file, where the rule on repeats decides them all. Pure, no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from services.accounts.domain.csv_import import (
    ColumnMapping,
    DuplicateRow,
    ParsedRow,
    Reason,
    Record,
    RejectedRow,
    mapped_fields,
    records,
)

Outcome = ParsedRow | RejectedRow | DuplicateRow


@dataclass(frozen=True)
class FileSurvey:
    rows_read: int  # non-blank records
    country_of: dict[str, str]  # customer → the country most of its rows give
    repeated: frozenset[str]  # invoice numbers on more than one record


def survey(lines: Iterable[str], mapping: ColumnMapping, currency: str) -> FileSurvey:
    """Pass one. Raises InvalidArgument for a file that cannot be imported at all (header, CSV)."""
    votes: dict[str, Counter[str]] = {}
    seen: set[str] = set()
    repeated: set[str] = set()
    rows_read = 0
    for _, get in mapped_fields(lines, mapping, currency):
        rows_read += 1
        if isinstance(get, RejectedRow):
            continue
        customer, country, number = (
            get["customer_ref"],
            get.get("country", ""),
            get["invoice_number"],
        )
        if customer and country:
            votes.setdefault(customer, Counter())[country] += 1
        (repeated if number in seen else seen).add(number)
    # most_common keeps insertion order among equal counts: a tie goes to the first seen
    country_of = {customer: c.most_common(1)[0][0] for customer, c in votes.items()}
    return FileSurvey(rows_read, country_of, frozenset(repeated))


def plan_rows(
    lines: Iterable[str], mapping: ColumnMapping, currency: str, found: FileSurvey
) -> Iterator[Outcome]:
    """Pass two over the same lines: every record's outcome, in line order but for the rows of
    repeated numbers, which come last."""
    waiting: dict[str, list[ParsedRow]] = {}
    for record in records(lines, mapping, currency):
        outcome = _country_checked(record, found.country_of)
        if isinstance(outcome, ParsedRow) and outcome.invoice_number in found.repeated:
            waiting.setdefault(outcome.invoice_number, []).append(outcome)
        else:
            yield outcome
    for number, group in waiting.items():
        yield from _repeats_decided(number, group)


def _country_checked(record: Record, country_of: dict[str, str]) -> ParsedRow | RejectedRow:
    expected, result = country_of.get(record.customer_ref), record.result
    if not record.country or not expected or record.country == expected:
        return result
    msg = f"customer {record.customer_ref} is in {expected} elsewhere, not {record.country}"
    if isinstance(result, RejectedRow):
        return replace(
            result,
            message=f"{result.message}; {msg}",
            reasons=(*result.reasons, Reason.COUNTRY_CONFLICT),
        )
    return RejectedRow(result.line_no, Reason.COUNTRY_CONFLICT, msg)


def _repeats_decided(number: str, group: list[ParsedRow]) -> Iterator[Outcome]:
    first = group[0]
    if len(group) == 1 or len({r.fingerprint() for r in group}) == 1:
        yield first
        yield from (DuplicateRow(r.line_no, number, first.line_no) for r in group[1:])
        return
    where = ", ".join(str(r.line_no) for r in group)
    msg = f"invoice {number} appears on lines {where} with different content"
    yield from (RejectedRow(r.line_no, Reason.CONFLICTING_DUPLICATE, msg) for r in group)


@dataclass(frozen=True)
class ImportPlan:
    rows: tuple[ParsedRow, ...]  # in line order
    rejected: tuple[RejectedRow, ...]  # in line order
    duplicates: tuple[DuplicateRow, ...]
    rows_read: int  # == len(rows) + len(rejected) + len(duplicates)

    def reason_counts(self, *, primary_only: bool = False) -> dict[str, int]:
        counter = Counter(
            code for r in self.rejected for code in (r.reasons[:1] if primary_only else r.reasons)
        )
        return dict(sorted(counter.items()))


def validate_file(lines: Iterable[str], mapping: ColumnMapping, currency: str) -> ImportPlan:
    """Both passes, every outcome held: for small files and tests (a stream is read into a list)."""
    lines = lines if isinstance(lines, list | tuple) else list(lines)
    found = survey(lines, mapping, currency)
    kept: dict[type, list] = {ParsedRow: [], RejectedRow: [], DuplicateRow: []}
    for outcome in plan_rows(lines, mapping, currency, found):
        kept[type(outcome)].append(outcome)
    return ImportPlan(
        rows=tuple(sorted(kept[ParsedRow], key=_line)),
        rejected=tuple(sorted(kept[RejectedRow], key=_line)),
        duplicates=tuple(kept[DuplicateRow]),
        rows_read=found.rows_read,
    )


def _line(outcome: Outcome) -> int:
    return outcome.line_no
