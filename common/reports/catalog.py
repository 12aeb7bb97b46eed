"""The reports a service offers, as data: each report's name, title, the parameters it reads and
the use case that computes it. The reports servicer (common/reports/servicer.py) and the schedule
worker run reports only through this catalog, so both validate parameters the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from common.actor import Actor
from common.errors import NotFound, Violations
from common.reports.envelope import ReportResult


class Parameter(StrEnum):
    """A parameter a report may read; the request fields of the same names carry them."""

    AS_OF = "as_of"
    PERIOD = "period"  # period_start and period_end, both required
    BUCKET_BOUNDS = "bucket_bounds"
    ANNUAL_RATE = "annual_rate"
    TARGETS = "targets"  # "<collector>:<CURRENCY>:<amount>", e.g. "user:ana:EUR:25000.00"


@dataclass(frozen=True)
class ReportParameters:
    as_of: datetime  # aware
    period_start: date | None = None
    period_end: date | None = None  # inclusive
    bucket_bounds: tuple[int, ...] = ()
    annual_rate: Decimal | None = None
    targets: tuple[Target, ...] = ()

    def window(self) -> tuple[datetime, datetime]:
        """[start, end) of the period's whole UTC days."""
        assert self.period_start is not None and self.period_end is not None
        start = datetime.combine(self.period_start, time(), UTC)
        return start, datetime.combine(self.period_end + timedelta(days=1), time(), UTC)

    def at_period_end(self) -> ReportParameters:
        """A period report describes the end of its last day."""
        return replace(self, as_of=self.window()[1])

    def described(self, accepted: frozenset[Parameter]) -> dict[str, str]:
        """The parameters as the result prints them: only those the report reads."""
        shown: dict[str, str] = {}
        if Parameter.PERIOD in accepted and self.period_start and self.period_end:
            shown["period_start"] = self.period_start.isoformat()
            shown["period_end"] = self.period_end.isoformat()
        if Parameter.BUCKET_BOUNDS in accepted:
            shown["bucket_bounds"] = ",".join(str(b) for b in self.bucket_bounds)
        if Parameter.ANNUAL_RATE in accepted and self.annual_rate is not None:
            shown["annual_rate"] = format(self.annual_rate, "f")
        if Parameter.TARGETS in accepted:
            shown["targets"] = ",".join(t.text() for t in self.targets)
        return shown


@dataclass(frozen=True)
class Target:
    """What a collector is expected to collect in a period, in one currency."""

    collector: str
    currency: str
    amount: Decimal

    def text(self) -> str:
        return f"{self.collector}:{self.currency}:{format(self.amount, 'f')}"


Compute = Callable[[ReportParameters, Actor], Awaitable[ReportResult]]


@dataclass(frozen=True)
class ReportDefinition:
    name: str  # "aging-by-customer": the path segment and the schedule's report
    title: str  # "Aging by customer": the e-mail subject
    accepts: frozenset[Parameter]
    compute: Compute
    default_bucket_bounds: tuple[int, ...] = ()


@dataclass(frozen=True)
class GivenParameters:
    """What a request or a schedule said, before validation (empty means not given)."""

    as_of: datetime | None = None
    period_start: str = ""
    period_end: str = ""
    bucket_bounds: tuple[int, ...] = ()
    annual_rate: str = ""
    targets: tuple[str, ...] = ()


MAX_PERIOD_DAYS = 3660  # ten years: a longer period is a mistake, not a report


class ReportCatalog:
    def __init__(self, reports: list[ReportDefinition]):
        self._reports = {report.name: report for report in reports}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._reports)

    def get(self, name: str) -> ReportDefinition:
        found = self._reports.get(name)
        if found is None:
            raise NotFound(f"no report {name[:80]!r}; known: {', '.join(self._reports)}")
        return found

    def parameters(self, name: str, given: GivenParameters, now: datetime) -> ReportParameters:
        """The report's parameters, every problem reported at once; a parameter the report does
        not read is refused rather than silently ignored."""
        report, v = self.get(name), Violations()
        accepts = report.accepts
        as_of = given.as_of or now
        if given.as_of is not None and Parameter.AS_OF not in accepts:
            v.add("as_of", f"is not read by {name} (its period sets the as-of)")
        start = _date(given.period_start, "period_start", v)
        end = _date(given.period_end, "period_end", v)
        if Parameter.PERIOD in accepts:
            v.require(start is not None and end is not None, "period", "needs start and end")
            if start and end:
                v.require(start <= end, "period_end", "must not be before period_start")
                v.require((end - start).days < MAX_PERIOD_DAYS, "period", "at most ten years")
        elif given.period_start or given.period_end:
            v.add("period_start", f"is not read by {name}")
        bounds = given.bucket_bounds or report.default_bucket_bounds
        if given.bucket_bounds and Parameter.BUCKET_BOUNDS not in accepts:
            v.add("bucket_bounds", f"is not read by {name}")
        rate = _rate(given.annual_rate, v)
        if given.annual_rate and Parameter.ANNUAL_RATE not in accepts:
            v.add("annual_rate", f"is not read by {name}")
        if rate is None and Parameter.ANNUAL_RATE in accepts:
            v.add("annual_rate", f"is required by {name} (a fraction: 0.08 is 8 %)")
        if given.targets and Parameter.TARGETS not in accepts:
            v.add("targets", f"is not read by {name}")
        targets = tuple(_targets(given.targets, v))
        v.raise_if_any()
        return ReportParameters(as_of, start, end, tuple(bounds), rate, targets)


def _date(text: str, field_name: str, v: Violations) -> date | None:
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        v.add(field_name, "must be a date YYYY-MM-DD")
        return None


def _targets(texts: tuple[str, ...], v: Violations):
    seen: set[tuple[str, str]] = set()
    for index, text in enumerate(texts):
        parts = text.rsplit(":", 2)  # a collector's subject may itself hold colons
        amount = None
        if len(parts) == 3 and parts[0] and len(parts[1]) == 3 and parts[1].isalpha():
            try:
                amount = Decimal(parts[2])
            except ArithmeticError:
                amount = None
        if amount is None or not amount.is_finite() or amount < 0:
            v.add(f"targets[{index}]", "must be <collector>:<CURRENCY>:<amount ≥ 0>")
            continue
        collector, currency = parts[0], parts[1].upper()
        if (collector, currency) in seen:
            v.add(f"targets[{index}]", "names a collector and currency twice")
        seen.add((collector, currency))
        yield Target(collector, currency, amount)


def _rate(text: str, v: Violations) -> Decimal | None:
    if not text:
        return None
    try:
        rate = Decimal(text)
    except ArithmeticError:
        v.add("annual_rate", "must be a decimal fraction, e.g. 0.08")
        return None
    if not rate.is_finite() or not 0 <= rate <= 10:
        v.add("annual_rate", "must be between 0 and 10 (a fraction: 0.08 is 8 %)")
        return None
    return rate
