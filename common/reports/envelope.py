"""The result every report returns: what was computed, as of when, from which data, with which
formula version, and its tables as row streams that are read once and never held whole."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

Cell = str | int | Decimal | date | None
Row = Sequence[Cell]
Rows = Iterable[Row] | AsyncIterable[Row]


class ColumnType(StrEnum):
    TEXT = "text"
    DATE = "date"
    DECIMAL = "decimal"
    MONEY = "money"  # a Decimal amount; its ISO-4217 code is in the row's `currency_column`
    INT = "int"
    PERCENT = "percent"  # a Decimal in percent (85.42 means 85.42 %), as docs/reports.md rounds it


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    currency_column: str | None = None  # MONEY only: the TEXT column holding the currency code

    def __post_init__(self) -> None:
        if (self.type is ColumnType.MONEY) != (self.currency_column is not None):
            raise ValueError(f"column {self.name!r}: a currency column goes with money, only")


@dataclass(frozen=True)
class Table:
    """One table of a report. `rows` is consumed once, by whichever export reads it."""

    name: str
    columns: tuple[Column, ...]
    rows: Rows

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name!r}: column names repeat")
        for column in self.columns:
            if column.currency_column is None:
                continue
            if column.currency_column not in names:
                raise ValueError(f"column {column.name!r}: no column {column.currency_column!r}")
            currency = self.columns[names.index(column.currency_column)]
            if currency.type is not ColumnType.TEXT:
                raise ValueError(f"column {currency.name!r} holds currency codes: it must be text")

    def index_of(self, column_name: str) -> int:
        return [c.name for c in self.columns].index(column_name)


@dataclass(frozen=True)
class ReportResult:
    """Enough to reproduce the figures: the same report, parameters, as-of, formula version and
    data watermark (e.g. the highest ledger sequence read) give the same rows."""

    report: str
    as_of: datetime
    generated_at: datetime
    parameters: Mapping[str, str]
    formula_version: str
    data_watermark: str
    tables: tuple[Table, ...] = field(default=())

    def __post_init__(self) -> None:
        for instant in (self.as_of, self.generated_at):
            if instant.tzinfo is None:
                raise ValueError("as_of and generated_at must be timezone-aware")
        names = [t.name for t in self.tables]
        if len(set(names)) != len(names):
            raise ValueError(f"report {self.report!r}: table names repeat")

    def provenance(self) -> list[tuple[str, str]]:
        """The Parameters sheet: fixed facts first, then the parameters in the order given."""
        return [
            ("report", self.report),
            ("as_of", _instant(self.as_of)),
            ("generated_at", _instant(self.generated_at)),
            ("formula_version", self.formula_version),
            ("data_watermark", self.data_watermark),
            *((f"parameter.{name}", value) for name, value in self.parameters.items()),
        ]


def _instant(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def iterate(rows: Rows) -> AsyncIterator[Row]:
    """One async loop over sync and async row sources alike."""
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row
