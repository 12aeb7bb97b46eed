"""Open-items CSV import: parse and validate a file against a column mapping. Pure, no I/O.

`parse_rows` streams row-by-row results; `import_plan` adds the checks that need the whole file
(a customer's country, an invoice number seen twice), in two passes over the lines. The rules:
- a row reports every defect found, `reason_code` being the first; so a row with a bad invoice
  number *and* a conflicting country is counted under both in `ImportPlan.reason_counts`;
- a customer's country is the one most of its rows give (ties: the first seen), counting every row
  with both fields present; rows giving another country are rejected as COUNTRY_CONFLICT;
- one invoice number on several accepted rows: identical content → the first is imported, the
  others are reported as duplicates; different content → the file contradicts itself and all of
  those rows are rejected, since no rule can tell which one is right;
- lines whose fields are all blank are skipped and not counted; line numbers are physical lines.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from operator import attrgetter
from typing import Any

import re2

from common.errors import InvalidArgument, Violations
from common.money import Money, currency_exponent
from services.accounts.domain.date_formats import date_reader

_REQUIRED = ("customer_ref", "invoice_number", "invoice_date", "due_date", "amount")
_OPTIONAL = ("settled_date", "country", "disputed")
# A caller's invoice number pattern runs on RE2 (linear time, no backtracking: `(a+)+` cannot
# stall the service's event loop, issue 17 defect 6), and is short: a pattern is a format.
MAX_PATTERN_CHARS = 200


class Reason(StrEnum):
    WRONG_COLUMN_COUNT = "WRONG_COLUMN_COUNT"
    MISSING_FIELD = "MISSING_FIELD"
    INVALID_DATE = "INVALID_DATE"
    INVALID_AMOUNT = "INVALID_AMOUNT"  # unparseable or more decimals than the currency has
    AMOUNT_NOT_POSITIVE = "AMOUNT_NOT_POSITIVE"
    INVALID_FLAG = "INVALID_FLAG"
    DUE_BEFORE_INVOICE = "DUE_BEFORE_INVOICE"
    SETTLED_BEFORE_INVOICE = "SETTLED_BEFORE_INVOICE"
    INVOICE_NUMBER_PATTERN = "INVOICE_NUMBER_PATTERN"
    COUNTRY_CONFLICT = "COUNTRY_CONFLICT"
    CONFLICTING_DUPLICATE = "CONFLICTING_DUPLICATE"


@dataclass(frozen=True)
class ColumnMapping:
    """Which header names give each field; None for an optional field the file lacks."""

    customer_ref: str
    invoice_number: str
    invoice_date: str
    due_date: str
    amount: str
    settled_date: str | None = None
    country: str | None = None
    disputed: str | None = None
    date_format: str = "%m/%d/%Y"  # strptime accepts unpadded "1/2/2013" for %m/%d
    true_words: tuple[str, ...] = ("Yes",)
    false_words: tuple[str, ...] = ("No",)
    invoice_number_pattern: str | None = None  # full match, ASCII digits only for \d

    def __post_init__(self) -> None:
        v = Violations()
        for name in _REQUIRED:
            v.require(bool(getattr(self, name)), f"mapping.{name}", "a column name is required")
        names = list(self.columns().values())
        v.require(len(set(names)) == len(names), "mapping", "one column is mapped twice")
        true, false = _folded(self.true_words), _folded(self.false_words)
        v.require(bool(true and false), "mapping.true_words", "true and false words are needed")
        v.require(not true & false, "mapping.false_words", "a word cannot be both true and false")
        v.require(_round_trips(self.date_format), "mapping.date_format", "not a date format")
        pattern = self.invoice_number_pattern
        if pattern is not None and len(pattern) > MAX_PATTERN_CHARS:
            v.add("mapping.invoice_number_pattern", f"longer than {MAX_PATTERN_CHARS} characters")
        elif pattern is not None:
            try:
                re2.compile(pattern)
            except re2.error:
                v.add(
                    "mapping.invoice_number_pattern",
                    "not a regular expression RE2 accepts (no backreferences or lookaround)",
                )
        v.raise_if_any("invalid column mapping")

    @classmethod
    def given(cls, fields: dict[str, Any]) -> ColumnMapping:
        """A caller's mapping of some fields: a required column left out is a field violation
        like an empty one (was a TypeError, a 500: issue 17 defect 1)."""
        return cls(**({name: "" for name in _REQUIRED} | fields))

    @classmethod
    def sample_file(cls) -> ColumnMapping:
        """The IBM "Finance – Factoring" sample files (see data/ar-sample/SOURCES.md)."""
        return cls(
            customer_ref="customerID", invoice_number="invoiceNumber", invoice_date="InvoiceDate",
            due_date="DueDate", amount="InvoiceAmount", settled_date="SettledDate",
            country="countryCode", disputed="Disputed", invoice_number_pattern=r"^\d{10}$",
        )  # fmt: skip

    def columns(self) -> dict[str, str]:
        """Field name → header name, for the fields this mapping uses."""
        return {f: getattr(self, f) for f in _REQUIRED + _OPTIONAL if getattr(self, f)}

    def resolve(self, header: list[str]) -> dict[str, int]:
        """Field name → column index; every mapped column must appear exactly once."""
        v = Violations()
        for name, column in self.columns().items():
            count = header.count(column)
            v.require(count > 0, f"mapping.{name}", f"column {column!r} is not in the header")
            v.require(count < 2, f"mapping.{name}", f"column {column!r} appears {count} times")
        v.raise_if_any("the file does not match the column mapping")
        return {name: header.index(column) for name, column in self.columns().items()}

    def flag(self, text: str) -> bool | None:
        word = text.casefold()
        if word in self._true:
            return True
        return False if word in self._false else None

    # Worked out once per mapping, not per row (a frozen dataclass still has a __dict__).
    @cached_property
    def _true(self) -> frozenset[str]:
        return _folded(self.true_words)

    @cached_property
    def _false(self) -> frozenset[str]:
        return _folded(self.false_words)

    @cached_property
    def read_date(self) -> Callable[[str], date]:
        return date_reader(self.date_format)

    @cached_property
    def number_re(self) -> re2._Regexp | None:
        pattern = self.invoice_number_pattern
        return re2.compile(pattern) if pattern else None  # "" checks nothing; RE2's \d is ASCII


def _folded(words: Iterable[str]) -> frozenset[str]:
    return frozenset(w.strip().casefold() for w in words if w.strip())


def _round_trips(fmt: str) -> bool:
    sample = date(2013, 11, 24)
    try:
        return datetime.strptime(sample.strftime(fmt), fmt).date() == sample
    except (ValueError, TypeError):
        return False


@dataclass(frozen=True)
class ParsedRow:
    line_no: int
    customer_ref: str
    invoice_number: str  # a string: leading zeros are part of the number
    invoice_date: date
    due_date: date
    amount: Money
    settled_date: date | None
    country: str | None
    disputed: bool | None

    def fingerprint(self) -> str:
        """Stable hash of the content (not the line number), to compare with imported data."""
        parts = ["v1", self.amount.currency, *map(_canonical, _content(self))]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# every field but the line number, in declaration order (a getter: computed once, not per row)
_content = attrgetter(*(f.name for f in fields(ParsedRow) if f.name != "line_no"))


def _canonical(value: object) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)  # dates ISO, Money "1234.50"


@dataclass(frozen=True)
class RejectedRow:
    line_no: int
    reason_code: str  # the first of `reasons`
    message: str
    reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.reasons:
            object.__setattr__(self, "reasons", (self.reason_code,))


@dataclass(frozen=True)
class DuplicateRow:
    """A repeat of an earlier line with identical content: skipped, not an error."""

    line_no: int
    invoice_number: str
    first_line_no: int


@dataclass(frozen=True)
class Record:
    """A record's row-level outcome, with the raw fields the whole-file checks compare."""

    result: ParsedRow | RejectedRow
    customer_ref: str
    country: str


def _read(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) per CSV record; a quoted field may span lines."""
    reader = csv.reader(lines)
    end = 0
    try:
        for fields_ in reader:
            start, end = end + 1, reader.line_num
            yield start, fields_
    except csv.Error as exc:  # e.g. a field over the size limit: the file cannot be trusted
        raise InvalidArgument.of("file", f"not readable as CSV at line {end + 1}: {exc}") from exc


def mapped_fields(
    lines: Iterable[str], mapping: ColumnMapping, currency: str
) -> Iterator[tuple[int, dict[str, str] | RejectedRow]]:
    """Per non-blank record: its mapped fields by name (stripped), or its WRONG_COLUMN_COUNT."""
    currency_exponent(currency)  # fail fast on an unknown currency, before reading anything
    rows = _read(lines)
    _, header = next(rows, (1, []))
    if header:
        header[0] = header[0].removeprefix("\ufeff")  # byte-order mark from spreadsheet exports
    header = [h.strip() for h in header]
    index = mapping.resolve(header)
    for line_no, raw in rows:
        values = [v.strip() for v in raw]
        if not any(values):
            continue
        if len(values) != len(header):
            msg = f"{len(values)} columns, the header has {len(header)}"
            yield line_no, RejectedRow(line_no, Reason.WRONG_COLUMN_COUNT, msg)
            continue
        yield line_no, {name: values[i] for name, i in index.items()}


def records(lines: Iterable[str], mapping: ColumnMapping, currency: str) -> Iterator[Record]:
    for line_no, get in mapped_fields(lines, mapping, currency):
        if isinstance(get, RejectedRow):
            yield Record(get, "", "")
        else:
            result = _parse(line_no, get, mapping, currency)
            yield Record(result, get["customer_ref"], get.get("country", ""))


class _RowCheck:
    """One record's fields under check; collects every problem instead of stopping at the first."""

    def __init__(self, get: dict[str, str], mapping: ColumnMapping) -> None:
        self.get, self.mapping = get, mapping
        self.issues: list[tuple[Reason, str]] = []

    def problem(self, reason: Reason, name: str, text: str) -> None:
        self.issues.append((reason, f"{getattr(self.mapping, name)}: {text}"))

    def date_field(self, name: str) -> date | None:
        text = self.get.get(name, "")
        try:
            return self.mapping.read_date(text) if text else None
        except ValueError:
            self.problem(
                Reason.INVALID_DATE, name, f"{text[:40]!r} is not {self.mapping.date_format}"
            )
            return None

    def amount(self, currency: str) -> Money | None:
        try:
            amount = Money.parse(self.get["amount"], currency, field=self.mapping.amount)
        except InvalidArgument as exc:
            self.problem(Reason.INVALID_AMOUNT, "amount", exc.violations[0].description)
            return None
        if amount.minor <= 0:
            self.problem(Reason.AMOUNT_NOT_POSITIVE, "amount", f"{amount} is not positive")
        return amount

    def flag(self) -> bool | None:
        text = self.get.get("disputed", "")
        value = self.mapping.flag(text) if text else None
        if text and value is None:
            self.problem(Reason.INVALID_FLAG, "disputed", f"{text[:40]!r} is not a yes/no word")
        return value

    def not_before(self, name: str, later: date | None, earlier: date | None, reason: Reason):
        if later and earlier and later < earlier:
            self.problem(reason, name, f"{later} is before the invoice date {earlier}")

    def invoice_number(self) -> str:
        pattern, number = self.mapping.number_re, self.get["invoice_number"]
        if pattern and number and not pattern.fullmatch(number):
            message = f"{number[:40]!r} does not match {pattern.pattern}"
            self.problem(Reason.INVOICE_NUMBER_PATTERN, "invoice_number", message)
        return number


def _parse(line_no: int, get: dict[str, str], mapping: ColumnMapping, currency: str):
    check = _RowCheck(get, mapping)
    for name in _REQUIRED:
        if not get[name]:
            check.problem(Reason.MISSING_FIELD, name, "empty")
    invoice, due = check.date_field("invoice_date"), check.date_field("due_date")
    settled = check.date_field("settled_date")
    amount = check.amount(currency) if get["amount"] else None
    disputed = check.flag()
    check.not_before("due_date", due, invoice, Reason.DUE_BEFORE_INVOICE)
    check.not_before("settled_date", settled, invoice, Reason.SETTLED_BEFORE_INVOICE)
    number = check.invoice_number()
    if check.issues:
        codes = tuple(dict.fromkeys(reason for reason, _ in check.issues))
        return RejectedRow(line_no, codes[0], "; ".join(m for _, m in check.issues), codes)
    # without issues the required fields were present and parsed
    assert invoice is not None and due is not None and amount is not None
    return ParsedRow(
        line_no, get["customer_ref"], number, invoice, due, amount, settled,
        get.get("country") or None, disputed,
    )  # fmt: skip


def parse_rows(
    lines: Iterable[str], mapping: ColumnMapping, currency: str
) -> Iterator[ParsedRow | RejectedRow]:
    """Row-level checks only, streamed. Raises InvalidArgument if the header does not match."""
    return (record.result for record in records(lines, mapping, currency))
