"""Aging: open amounts grouped by days past due, per customer and for the portfolio.

Buckets are data (configurable per portfolio), validated to cover every integer day exactly once,
so an item can never fall between two buckets or into two. The same bounds drive the SQL CASE the
service uses for large portfolios, via `AgingBuckets.bounds()`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from itertools import pairwise

from common.errors import InvalidArgument
from common.money import currency_exponent

_CODE_RE = re.compile(r"[A-Z][A-Z0-9_]{0,31}", re.ASCII)  # safe as a SQL literal / proto enum
_BOUND_RE = re.compile(r"[0-9]{1,5}", re.ASCII)
_MAX_BUCKETS = 24


@dataclass(frozen=True)
class Bucket:
    code: str
    label: str
    min_days: int | None  # None: unbounded below
    max_days: int | None  # None: unbounded above

    def contains(self, days: int) -> bool:
        above_min = self.min_days is None or days >= self.min_days
        return above_min and (self.max_days is None or days <= self.max_days)


@dataclass(frozen=True)
class AgingBuckets:
    """Ordered buckets, contiguous and non-overlapping, covering every integer day."""

    buckets: tuple[Bucket, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "buckets", tuple(self.buckets))
        problem = _coverage_problem(self.buckets)
        if problem:
            raise InvalidArgument.of("buckets", problem)

    @classmethod
    def parse(cls, spec: str) -> AgingBuckets:
        """From upper bounds: "0,30,60,90,120" → Current, 1–30, 31–60, 61–90, 91–120, 120+.

        A first bound of 0 makes a "Current" (not yet due) bucket; a higher first bound merges
        not-yet-due into the first bucket, as in the roll-up "30,60,90" → 0–30 … 90+.
        """
        parts = [p.strip() for p in spec.split(",")] if isinstance(spec, str) else []
        if not 0 < len(parts) < _MAX_BUCKETS or not all(_BOUND_RE.fullmatch(p) for p in parts):
            raise InvalidArgument.of("buckets", f"expected day bounds like '0,30,60': {spec!r:.60}")
        bounds = [int(p) for p in parts]
        if any(high <= low for low, high in pairwise(bounds)):
            raise InvalidArgument.of("buckets", f"bounds must strictly increase: {spec!r:.60}")
        return cls(tuple(_buckets_from_bounds(bounds)))

    def bucket_for(self, days_past_due: int) -> Bucket:
        for bucket in self.buckets:
            if bucket.max_days is None or days_past_due <= bucket.max_days:
                return bucket
        raise AssertionError("unreachable: the last bucket is unbounded")

    def bounds(self) -> tuple[tuple[str, int | None, int | None], ...]:
        """(code, min_days, max_days) per bucket, in order: enough to build a SQL CASE."""
        return tuple((b.code, b.min_days, b.max_days) for b in self.buckets)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(b.code for b in self.buckets)

    def __iter__(self) -> Iterator[Bucket]:
        return iter(self.buckets)

    def __len__(self) -> int:
        return len(self.buckets)


def _coverage_problem(buckets: tuple[Bucket, ...]) -> str | None:
    if not buckets or len(buckets) > _MAX_BUCKETS:
        return f"between 1 and {_MAX_BUCKETS} buckets are needed"
    if not all(isinstance(b, Bucket) for b in buckets):
        return "every bucket must be a Bucket"
    codes = [b.code for b in buckets]
    if len(set(codes)) != len(codes) or not all(_CODE_RE.fullmatch(c) for c in codes):
        return f"bucket codes must be unique UPPER_SNAKE identifiers: {codes}"
    if buckets[0].min_days is not None or buckets[-1].max_days is not None:
        return "the first bucket must be open below and the last open above"
    for bucket in buckets:
        limits = (bucket.min_days, bucket.max_days)
        if not all(d is None or type(d) is int for d in limits):
            return f"bucket {bucket.code} bounds must be whole days or None"
        low, high = bucket.min_days, bucket.max_days
        if low is not None and high is not None and low > high:
            return f"bucket {bucket.code} is empty"
    for before, after in pairwise(buckets):
        if before.max_days is None or after.min_days is None:
            return (
                f"only the first and last buckets may be open-ended ({before.code}, {after.code})"
            )
        if after.min_days != before.max_days + 1:
            return f"gap or overlap between {before.code} and {after.code}"
    return None


def _buckets_from_bounds(bounds: list[int]) -> Iterator[Bucket]:
    first = bounds[0]
    if first == 0:
        yield Bucket("CURRENT", "Current", None, 0)
    else:
        yield Bucket(f"D0_{first}", f"0–{first}", None, first)
    for low, high in pairwise(bounds):
        yield Bucket(f"D{low + 1}_{high}", f"{low + 1}–{high}", low + 1, high)
    yield Bucket(f"D{bounds[-1]}_PLUS", f"{bounds[-1]}+", bounds[-1] + 1, None)


DEFAULT_BUCKETS = AgingBuckets.parse("0,30,60,90,120")
ROLLUP_BUCKETS = AgingBuckets.parse("30,60,90")


class AgeBasis(StrEnum):
    DUE_DATE = "DUE_DATE"  # the default: how late the customer is
    POSTING_DATE = "POSTING_DATE"  # how old the item is


def days_past_due(
    due_date: date,
    as_of: date,
    *,
    basis: AgeBasis = AgeBasis.DUE_DATE,
    posting_date: date | None = None,
) -> int:
    """Whole days from the due date (or the posting date) to `as_of`; ≤ 0 means not yet due."""
    if basis is AgeBasis.POSTING_DATE:
        if posting_date is None:
            raise InvalidArgument.of("posting_date", "required when aging by posting date")
        return (as_of - posting_date).days
    return (as_of - due_date).days


@dataclass(frozen=True)
class OpenItem:
    customer_id: str
    invoice_id: str
    currency: str
    due_date: date
    open_minor: int  # negative for an open credit
    held_minor: int  # disputed part of the open amount, not chased while the hold lasts
    posting_date: date | None = None

    def __post_init__(self) -> None:
        currency_exponent(self.currency)
        if type(self.open_minor) is not int or type(self.held_minor) is not int:
            raise TypeError("open_minor and held_minor are integer minor units")
        if not 0 <= self.held_minor <= max(self.open_minor, 0):
            raise InvalidArgument.of(
                "held_minor",
                f"held {self.held_minor} must be between 0 and the open amount {self.open_minor}"
                f" (invoice {self.invoice_id})",
            )


@dataclass(frozen=True)
class BucketAmounts:
    code: str
    collectible_minor: int = 0  # open - held: what the collector chases
    held_minor: int = 0
    item_count: int = 0

    @property
    def open_minor(self) -> int:
        return self.collectible_minor + self.held_minor


@dataclass(frozen=True)
class AgingRow:
    """One customer (or the whole portfolio when customer_id is None) in one currency."""

    customer_id: str | None
    currency: str
    buckets: tuple[BucketAmounts, ...]  # every bucket, in bucket order, zeros included

    def bucket(self, code: str) -> BucketAmounts:
        return next(b for b in self.buckets if b.code == code)

    @property
    def open_minor(self) -> int:
        return sum(b.open_minor for b in self.buckets)

    @property
    def held_minor(self) -> int:
        return sum(b.held_minor for b in self.buckets)

    @property
    def collectible_minor(self) -> int:
        return sum(b.collectible_minor for b in self.buckets)

    @property
    def item_count(self) -> int:
        return sum(b.item_count for b in self.buckets)


@dataclass(frozen=True)
class AgingReport:
    as_of: date
    buckets: AgingBuckets
    basis: AgeBasis
    customers: tuple[AgingRow, ...]  # sorted by (customer_id, currency)
    portfolio: tuple[AgingRow, ...]  # one row per currency, never summed across currencies

    def customer(self, customer_id: str, currency: str) -> AgingRow | None:
        key = (customer_id, currency)
        return next((r for r in self.customers if (r.customer_id, r.currency) == key), None)

    def total(self, currency: str) -> AgingRow | None:
        return next((r for r in self.portfolio if r.currency == currency), None)


@dataclass
class _Acc:
    """Mutable per-bucket sums while aging runs: [collectible, held, count] per bucket."""

    cells: list[list[int]]

    @classmethod
    def new(cls, size: int) -> _Acc:
        return cls([[0, 0, 0] for _ in range(size)])

    def add(self, index: int, item: OpenItem) -> None:
        cell = self.cells[index]
        cell[0] += item.open_minor - item.held_minor
        cell[1] += item.held_minor
        cell[2] += 1

    def row(self, customer_id: str | None, currency: str, codes: tuple[str, ...]) -> AgingRow:
        amounts = (BucketAmounts(code, *cell) for code, cell in zip(codes, self.cells, strict=True))
        return AgingRow(customer_id, currency, tuple(amounts))


def age(
    items: Iterable[OpenItem],
    as_of: date,
    buckets: AgingBuckets = DEFAULT_BUCKETS,
    basis: AgeBasis = AgeBasis.DUE_DATE,
) -> AgingReport:
    """Put each item in exactly one bucket; sum per customer and for the portfolio, per currency."""
    per_customer: dict[tuple[str, str], _Acc] = {}
    per_currency: dict[str, _Acc] = {}
    index_of = {b.code: i for i, b in enumerate(buckets)}
    for item in items:
        days = days_past_due(item.due_date, as_of, basis=basis, posting_date=item.posting_date)
        index = index_of[buckets.bucket_for(days).code]
        per_customer.setdefault((item.customer_id, item.currency), _Acc.new(len(buckets))).add(
            index, item
        )
        per_currency.setdefault(item.currency, _Acc.new(len(buckets))).add(index, item)
    codes = buckets.codes
    return AgingReport(
        as_of=as_of,
        buckets=buckets,
        basis=basis,
        customers=tuple(per_customer[k].row(*k, codes) for k in sorted(per_customer)),
        portfolio=tuple(per_currency[c].row(None, c, codes) for c in sorted(per_currency)),
    )
