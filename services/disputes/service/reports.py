"""The disputes reports (docs/reports.md §9–§11): open disputes by reason, root cause and owning
team, by processor and the top customers by amount; created vs resolved per day; cycle time
(median, p90) by reason and root cause; SLA compliance per clock, policy and team; the root-cause
Pareto with carrying cost. Each run reads as its caller: a Sales, GBS or Legal user only the
cases escalated to their team."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from common.actor import Actor
from common.money import format_minor
from common.reports.catalog import Parameter, ReportCatalog, ReportDefinition, ReportParameters
from common.reports.envelope import Column, ColumnType, ReportResult, Table
from common.reports.figures import FORMULA_VERSION, carrying_cost, median, p90, percent
from common.team_scope import team_scope
from services.disputes.data import report_reads
from services.disputes.domain.status import ACTIVE
from services.disputes.service.context import DisputesContext

TOP_CUSTOMERS = 20  # per currency, by amount still disputed
NO_TEAM = "(no team)"  # a team-role identity without a team sees no case
_TEXT, _INT, _MONEY = ColumnType.TEXT, ColumnType.INT, ColumnType.MONEY
_DAYS, _PERCENT, _DATE = ColumnType.DECIMAL, ColumnType.PERCENT, ColumnType.DATE
_PERIOD = frozenset({Parameter.PERIOD})


def _team(actor: Actor) -> str:
    scope = team_scope(actor)
    return "" if scope is None else scope or NO_TEAM


def _amount(minor: int, currency: str) -> Decimal:
    return Decimal(format_minor(minor, currency))


def days_open(opened: datetime, closed: datetime) -> int:
    """Whole days a case was open (§9): a case resolved the hour it opened costs nothing."""
    return (closed - opened) // timedelta(days=1)


class DisputesReports:
    def __init__(self, ctx: DisputesContext):
        self.ctx = ctx

    def catalog(self) -> ReportCatalog:
        return ReportCatalog(
            [
                ReportDefinition("open-disputes", "Open disputes", frozenset(), self.open_disputes),
                ReportDefinition(
                    "created-vs-resolved", "Disputes created vs resolved", _PERIOD, self.flow
                ),
                ReportDefinition("cycle-time", "Dispute cycle time", _PERIOD, self.cycle_time),
                ReportDefinition("sla-compliance", "SLA compliance", _PERIOD, self.sla),
                ReportDefinition(
                    "root-cause-pareto",
                    "Root causes by carrying cost",
                    frozenset({Parameter.PERIOD, Parameter.ANNUAL_RATE}),
                    self.pareto,
                ),
            ]
        )

    async def _result(
        self,
        name: str,
        parameters: ReportParameters,
        accepts: frozenset[Parameter],
        tables: list[Table],
    ) -> ReportResult:
        async with self.ctx.db.reading_connection() as conn:
            mark = await report_reads.watermark(conn)
        if Parameter.PERIOD in accepts:
            parameters = parameters.at_period_end()
        return ReportResult(
            report=name,
            as_of=parameters.as_of,
            generated_at=self.ctx.clock.now(),
            parameters=parameters.described(accepts),
            formula_version=FORMULA_VERSION,
            data_watermark=mark.text(),
            tables=tuple(tables),
        )

    async def open_disputes(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        team = _team(actor)
        async with self.ctx.db.reading_connection() as conn:
            groups = await report_reads.open_groups(conn, sorted(ACTIVE), team)
            processors = await report_reads.open_by_processor(conn, sorted(ACTIVE), team)
            customers = await report_reads.open_by_customer(conn, sorted(ACTIVE), team)
        rows = [
            (
                g.reason_code,
                g.root_cause,
                g.owning_team,
                g.currency,
                g.cases,
                _amount(g.disputed_minor, g.currency),
                _amount(g.still_minor, g.currency),
            )
            for g in groups
        ]
        columns = (
            Column("reason", _TEXT),
            Column("root_cause", _TEXT),
            Column("owning_team", _TEXT),
            Column("currency", _TEXT),
            Column("cases", _INT),
            Column("disputed", _MONEY, "currency"),
            Column("still_disputed", _MONEY, "currency"),
        )
        table = Table("Open disputes", columns, rows)
        now = self.ctx.clock.now()
        by_processor = Table(
            "By processor",
            (
                Column("processor", _TEXT),
                Column("currency", _TEXT),
                Column("cases", _INT),
                Column("disputed", _MONEY, "currency"),
                Column("still_disputed", _MONEY, "currency"),
                Column("oldest_days_open", _INT),
            ),
            [
                (p.assignee, p.currency, p.cases, _amount(p.disputed_minor, p.currency),
                 _amount(p.still_minor, p.currency), days_open(p.oldest_opened, now))
                for p in processors
            ],
        )  # fmt: skip
        top: list[tuple] = []
        rank: dict[str, int] = defaultdict(int)
        for c in customers:  # ordered per currency by still disputed, descending
            rank[c.currency] += 1
            if rank[c.currency] <= TOP_CUSTOMERS:
                top.append((c.currency, rank[c.currency], c.customer_id, c.cases,
                            _amount(c.disputed_minor, c.currency),
                            _amount(c.still_minor, c.currency)))  # fmt: skip
        top_customers = Table(
            "Top customers",
            (
                Column("currency", _TEXT),
                Column("rank", _INT),
                Column("customer_id", _TEXT),
                Column("cases", _INT),
                Column("disputed", _MONEY, "currency"),
                Column("still_disputed", _MONEY, "currency"),
            ),
            top,
        )
        tables = [table, by_processor, top_customers]
        return await self._result("open-disputes", parameters, frozenset(), tables)

    async def _cases(self, parameters: ReportParameters, actor: Actor):
        start, end = parameters.window()
        async with self.ctx.db.reading_connection() as conn:
            cases = await report_reads.cases_created_or_resolved(conn, start, end, _team(actor))
        return start, end, cases

    async def flow(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        start, end, cases = await self._cases(parameters, actor)
        created: dict[date, int] = defaultdict(int)
        resolved: dict[date, int] = defaultdict(int)
        for c in cases:
            if start <= c.created_at < end:
                created[c.created_at.astimezone(UTC).date()] += 1
            if c.resolved_at is not None and start <= c.resolved_at < end:
                resolved[c.resolved_at.astimezone(UTC).date()] += 1
        days = (end - start).days
        rows = []
        for offset in range(days):
            day = start.date() + timedelta(days=offset)
            rows.append((day, created[day], resolved[day], created[day] - resolved[day]))
        columns = (
            Column("day", _DATE),
            Column("created", _INT),
            Column("resolved", _INT),
            Column("net_change", _INT),
        )
        table = Table("Created vs resolved", columns, rows)
        return await self._result("created-vs-resolved", parameters, _PERIOD, [table])

    async def cycle_time(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        start, end, cases = await self._cases(parameters, actor)
        durations: dict[tuple[str, str], list[int]] = defaultdict(list)
        for c in cases:
            if c.resolved_at is not None and start <= c.resolved_at < end:
                seconds = int((c.resolved_at - c.created_at).total_seconds())
                durations[(c.reason_code, c.root_cause)].append(seconds)
        rows = [
            (reason, cause, len(found), median(found), p90(found))
            for (reason, cause), found in sorted(durations.items())
        ]
        columns = (
            Column("reason", _TEXT),
            Column("root_cause", _TEXT),
            Column("resolved", _INT),
            Column("median_days", _DAYS),
            Column("p90_days", _DAYS),
        )
        table = Table("Cycle time", columns, rows)
        return await self._result("cycle-time", parameters, _PERIOD, [table])

    async def sla(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        start, end = parameters.window()
        async with self.ctx.db.reading_connection() as conn:
            judged = await report_reads.clock_judgements(conn, start, end, _team(actor))
        rows = [
            (
                j.kind,
                j.policy_id,
                j.owning_team,
                j.met,
                j.breached,
                percent(j.met, j.met + j.breached),
            )
            for j in judged
        ]
        columns = (
            Column("clock", _TEXT),
            Column("policy", _TEXT),
            Column("owning_team", _TEXT),
            Column("met", _INT),
            Column("breached", _INT),
            Column("compliance", _PERCENT),
        )
        table = Table("SLA compliance", columns, rows)
        return await self._result("sla-compliance", parameters, _PERIOD, [table])

    async def pareto(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        start, end, cases = await self._cases(parameters, actor)
        rate = parameters.annual_rate
        assert rate is not None
        groups: dict[tuple[str, str], list[report_reads.CaseTimes]] = defaultdict(list)
        for c in cases:
            if c.resolved_at is not None and start <= c.resolved_at < end:
                groups[(c.currency, c.root_cause)].append(c)
        figures = []
        for (currency, cause), found in groups.items():
            spans = [days_open(c.created_at, c.resolved_at) for c in found]  # type: ignore[arg-type]
            amounts = [_amount(c.disputed_minor, currency) for c in found]
            cost = carrying_cost(zip(amounts, spans, strict=True), rate, currency)
            figures.append(
                (
                    currency,
                    cause,
                    len(found),
                    sum(amounts, Decimal(0)),
                    _amount(sum(c.credited_minor for c in found), currency),
                    _amount(sum(c.written_off_minor for c in found), currency),
                    sum(spans),
                    cost,
                )
            )
        rows = []
        for currency in sorted({f[0] for f in figures}):
            mine = sorted((f for f in figures if f[0] == currency), key=lambda f: (-f[7], f[1]))
            total, running = sum((f[7] for f in mine), Decimal(0)), Decimal(0)
            for f in mine:
                running += f[7]
                rows.append((*f, percent(running, total)))
        columns = (
            Column("currency", _TEXT),
            Column("root_cause", _TEXT),
            Column("cases", _INT),
            Column("disputed", _MONEY, "currency"),
            Column("credited", _MONEY, "currency"),
            Column("written_off", _MONEY, "currency"),
            Column("days_open", _INT),
            Column("carrying_cost", _MONEY, "currency"),
            Column("cumulative_share", _PERCENT),
        )
        table = Table("Root-cause Pareto", columns, rows)
        accepts = frozenset({Parameter.PERIOD, Parameter.ANNUAL_RATE})
        return await self._result("root-cause-pareto", parameters, accepts, [table])
