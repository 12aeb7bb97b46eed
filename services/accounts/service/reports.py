"""The accounts reports (docs/reports.md): aging by customer and by collector, DSO, CEI and the
share of AR over 90 days (the collections reports are service/reports_collections.py's). Figures
come from domain/kpis.py, rows from data/report_reads.py; each run reads as its caller (a
collector sees their customers, a team lead their team's) and carries its as-of, parameters,
formula version and data watermark."""

from __future__ import annotations

import calendar
from collections.abc import AsyncIterator
from datetime import UTC, date, timedelta
from decimal import Decimal

from common.actor import Actor
from common.reports.catalog import Parameter, ReportCatalog, ReportDefinition, ReportParameters
from common.reports.envelope import Column, ColumnType, ReportResult, Row, Table
from services.accounts.data import report_reads
from services.accounts.domain.aging import AgingBuckets
from services.accounts.domain.kpis import (
    FORMULA_VERSION,
    MonthSales,
    SalesHistoryTooShort,
    average_days_delinquent,
    best_possible_dso,
    collection_effectiveness_index,
    countback_dso,
    share_over_90_days,
    simple_dso,
)
from services.accounts.service.context import AccountsContext
from services.accounts.service.report_scope import amount as _amount
from services.accounts.service.report_scope import report_scope
from services.accounts.service.reports_collections import PERIOD_ONLY, CollectionsReports

DEFAULT_BOUNDS = (0, 30, 60, 90, 120)
COUNTBACK_MONTHS = 36  # history countback DSO may read before it gives up (an empty figure)
_MONEY, _TEXT, _DAYS, _PERCENT = (
    ColumnType.MONEY,
    ColumnType.TEXT,
    ColumnType.DECIMAL,
    ColumnType.PERCENT,
)


class AccountsReports:
    def __init__(self, ctx: AccountsContext):
        self.ctx = ctx

    def catalog(self) -> ReportCatalog:
        as_of, bounds, period = Parameter.AS_OF, Parameter.BUCKET_BOUNDS, Parameter.PERIOD
        collections = CollectionsReports(self)
        return ReportCatalog(
            [
                ReportDefinition(
                    "aging-by-customer",
                    "Aging by customer",
                    frozenset({as_of, bounds}),
                    self.aging_by_customer,
                    DEFAULT_BOUNDS,
                ),
                ReportDefinition(
                    "aging-by-collector",
                    "Aging by collector",
                    frozenset({as_of, bounds}),
                    self.aging_by_collector,
                    DEFAULT_BOUNDS,
                ),
                ReportDefinition("dso", "Days sales outstanding", frozenset({period}), self.dso),
                ReportDefinition(
                    "cei", "Collection effectiveness index", frozenset({period}), self.cei
                ),
                ReportDefinition(
                    "ar-over-90", "Share of AR over 90 days", frozenset({as_of}), self.over_90
                ),
                ReportDefinition(
                    "aging-collectible",
                    "Collectible aging",
                    frozenset({bounds}),
                    collections.collectible_aging,
                    DEFAULT_BOUNDS,
                ),
                ReportDefinition(
                    "cash-against-target",
                    "Cash collected against target",
                    frozenset({period, Parameter.TARGETS}),
                    collections.cash_against_target,
                ),
                ReportDefinition("promises", "Promises", PERIOD_ONLY, collections.promises),
                ReportDefinition("open-items", "Open items", frozenset(), collections.open_items),
                ReportDefinition(
                    "dunning-log", "Dunning log", PERIOD_ONLY, collections.dunning_log
                ),
                ReportDefinition(
                    "write-offs", "Write-offs by reason", PERIOD_ONLY, collections.write_offs
                ),
            ]
        )

    async def result(
        self,
        name: str,
        parameters: ReportParameters,
        accepts: frozenset[Parameter],
        tables: list[Table],
    ) -> ReportResult:
        async with report_reads.connection(self.ctx.db) as conn:
            mark = await report_reads.watermark(conn)
        return ReportResult(
            report=name,
            as_of=parameters.as_of,
            generated_at=self.ctx.clock.now(),
            parameters=parameters.described(accepts),
            formula_version=FORMULA_VERSION,
            data_watermark=mark.text(),
            tables=tuple(tables),
        )

    # --- aging ------------------------------------------------------------------------------

    async def aging_by_customer(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        return await self._aging("aging-by-customer", parameters, actor, by_collector=False)

    async def aging_by_collector(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        return await self._aging("aging-by-collector", parameters, actor, by_collector=True)

    async def _aging(
        self, name: str, parameters: ReportParameters, actor: Actor, *, by_collector: bool
    ) -> ReportResult:
        buckets = AgingBuckets.parse(",".join(str(b) for b in parameters.bucket_bounds))
        on = parameters.as_of.astimezone(UTC).date()
        leading = (
            (Column("collector", _TEXT), Column("team", _TEXT))
            if by_collector
            else (
                Column("customer_id", _TEXT),
                Column("customer", _TEXT),
                Column("collector", _TEXT),
            )
        )
        columns = (
            *leading,
            Column("currency", _TEXT),
            *(Column(b.label, _MONEY, "currency") for b in buckets),
            Column("total", _MONEY, "currency"),
            Column("in_dispute", _MONEY, "currency"),
            Column("invoices", ColumnType.INT),
        )
        rows = self._aging_rows(on, parameters.bucket_bounds, actor, len(buckets), by_collector)
        title = "Aging by collector" if by_collector else "Aging by customer"
        table = Table(title, columns, rows)
        accepts = frozenset({Parameter.AS_OF, Parameter.BUCKET_BOUNDS})
        return await self.result(name, parameters, accepts, [table])

    async def _aging_rows(
        self, on: date, bounds: tuple[int, ...], actor: Actor, width: int, by_collector: bool
    ) -> AsyncIterator[Row]:
        """One row per group and currency, pivoted from the ordered (group, currency, bucket)
        sums as they stream in."""
        key: tuple | None = None
        amounts: list[int] = []
        held = invoices = 0
        lead: tuple = ()

        def finished() -> Row:
            assert key is not None
            currency = key[-1]
            return (
                *lead,
                currency,
                *(_amount(minor, currency) for minor in amounts),
                _amount(sum(amounts), currency),
                _amount(held, currency),
                invoices,
            )

        async with report_reads.connection(self.ctx.db) as conn:
            async for cell in report_reads.aging_cells(
                conn, on, bounds, report_scope(actor), by_collector=by_collector
            ):
                cell_key = (cell.group_id, cell.group_name, cell.currency)
                if cell_key != key:
                    if key is not None:
                        yield finished()
                    key, amounts, held, invoices = cell_key, [0] * width, 0, 0
                    lead = (
                        (cell.collector, cell.group_name)
                        if by_collector
                        else (cell.group_id, cell.group_name, cell.collector)
                    )
                amounts[cell.bucket] += cell.open_minor
                held += cell.held_minor
                invoices += cell.invoices
        if key is not None:
            yield finished()

    # --- KPIs -------------------------------------------------------------------------------

    async def dso(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        start, end = parameters.period_start, parameters.period_end
        assert start is not None and end is not None
        scope = report_scope(actor)
        history_start = _months_back(end, COUNTBACK_MONTHS)
        async with report_reads.connection(self.ctx.db) as conn:
            ar = await report_reads.ar_totals(conn, end, scope)
            sales = await report_reads.daily_sales(conn, history_start, end, scope)
        days = (end - start).days + 1
        rows = []
        for currency in sorted({*ar, *(s.currency for s in sales)}):
            totals = ar.get(currency)
            total = _amount(totals.total_minor if totals else 0, currency)
            current = _amount(totals.current_minor if totals else 0, currency)
            mine = [s for s in sales if s.currency == currency]
            period_sales = _amount(
                sum(s.amount_minor for s in mine if s.invoice_date >= start), currency
            )
            rows.append(
                (
                    currency,
                    start,
                    end,
                    days,
                    total,
                    current,
                    period_sales,
                    _countback(total, mine, end, currency),
                    simple_dso(total, period_sales, days),
                    best_possible_dso(current, period_sales, days),
                    average_days_delinquent(total, current, period_sales, days),
                )
            )
        columns = (
            Column("currency", _TEXT),
            Column("period_start", ColumnType.DATE),
            Column("period_end", ColumnType.DATE),
            Column("days", ColumnType.INT),
            Column("ar", _MONEY, "currency"),
            Column("current_ar", _MONEY, "currency"),
            Column("credit_sales", _MONEY, "currency"),
            Column("dso_countback", _DAYS),
            Column("dso_simple", _DAYS),
            Column("best_possible_dso", _DAYS),
            Column("average_days_delinquent", _DAYS),
        )
        parameters = parameters.at_period_end()
        return await self.result(
            "dso", parameters, frozenset({Parameter.PERIOD}), [Table("DSO", columns, rows)]
        )

    async def cei(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        start, end = parameters.period_start, parameters.period_end
        assert start is not None and end is not None
        scope = report_scope(actor)
        async with report_reads.connection(self.ctx.db) as conn:
            opening = await report_reads.ar_totals(conn, start - timedelta(days=1), scope)
            closing = await report_reads.ar_totals(conn, end, scope)
            sales = await report_reads.daily_sales(conn, start, end, scope)
        rows = []
        for currency in sorted({*opening, *closing, *(s.currency for s in sales)}):
            opening_ar = _amount(
                opening[currency].total_minor if currency in opening else 0, currency
            )
            shut = closing.get(currency)
            closing_ar = _amount(shut.total_minor if shut else 0, currency)
            closing_current = _amount(shut.current_minor if shut else 0, currency)
            credit = _amount(sum(s.amount_minor for s in sales if s.currency == currency), currency)
            cei = collection_effectiveness_index(opening_ar, credit, closing_ar, closing_current)
            rows.append(
                (currency, start, end, opening_ar, credit, closing_ar, closing_current, cei)
            )
        columns = (
            Column("currency", _TEXT),
            Column("period_start", ColumnType.DATE),
            Column("period_end", ColumnType.DATE),
            Column("opening_ar", _MONEY, "currency"),
            Column("credit_sales", _MONEY, "currency"),
            Column("closing_ar", _MONEY, "currency"),
            Column("closing_current_ar", _MONEY, "currency"),
            Column("cei", _PERCENT),
        )
        parameters = parameters.at_period_end()
        return await self.result(
            "cei", parameters, frozenset({Parameter.PERIOD}), [Table("CEI", columns, rows)]
        )

    async def over_90(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        on = parameters.as_of.astimezone(UTC).date()
        async with report_reads.connection(self.ctx.db) as conn:
            ar = await report_reads.ar_totals(conn, on, report_scope(actor))
        rows = [
            (
                currency,
                on,
                _amount(t.total_minor, currency),
                _amount(t.over_90_minor, currency),
                share_over_90_days(
                    _amount(t.over_90_minor, currency), _amount(t.total_minor, currency)
                ),
            )
            for currency, t in ar.items()
        ]
        columns = (
            Column("currency", _TEXT),
            Column("as_of", ColumnType.DATE),
            Column("ar", _MONEY, "currency"),
            Column("ar_over_90", _MONEY, "currency"),
            Column("share_over_90", _PERCENT),
        )
        table = Table("AR over 90 days", columns, rows)
        return await self.result("ar-over-90", parameters, frozenset({Parameter.AS_OF}), [table])


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def _countback(
    ar: Decimal, sales: list[report_reads.DailySales], end: date, currency: str
) -> Decimal | None:
    """Countback DSO over calendar months, newest first: the period end's month counts its days
    up to the period end; empty when the history read does not cover AR."""
    by_month: dict[tuple[int, int], int] = {}
    for day in sales:
        key = (day.invoice_date.year, day.invoice_date.month)
        by_month[key] = by_month.get(key, 0) + day.amount_minor
    months = []
    year, month = end.year, end.month
    for index in range(COUNTBACK_MONTHS):
        days = end.day if index == 0 else calendar.monthrange(year, month)[1]
        months.append(MonthSales(_amount(by_month.get((year, month), 0), currency), days))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    try:
        return countback_dso(ar, months)
    except SalesHistoryTooShort:
        return None
