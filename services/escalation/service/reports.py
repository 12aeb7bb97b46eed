"""The escalation reports (docs/reports.md §12): OLA compliance and response times per team,
escalations by reason and outcome. Each run reads as its caller: a Sales, GBS or Legal user only
their own team's escalations."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from common.actor import Actor
from common.money import format_minor
from common.reports.catalog import Parameter, ReportCatalog, ReportDefinition, ReportParameters
from common.reports.envelope import Column, ColumnType, ReportResult, Table
from common.reports.figures import FORMULA_VERSION, HOUR_S, median, p90, percent
from common.team_scope import team_scope
from services.escalation.data import report_reads
from services.escalation.domain.ola import BREACH
from services.escalation.service.context import EscalationContext

NO_TEAM = "(no team)"  # a team-role identity without a team sees no escalation
_US_PER_S = 1_000_000
_PERIOD = frozenset({Parameter.PERIOD})
_TEXT, _INT, _HOURS = ColumnType.TEXT, ColumnType.INT, ColumnType.DECIMAL


def _team(actor: Actor) -> str:
    scope = team_scope(actor)
    return "" if scope is None else scope or NO_TEAM


class EscalationReports:
    def __init__(self, ctx: EscalationContext):
        self.ctx = ctx

    def catalog(self) -> ReportCatalog:
        return ReportCatalog(
            [
                ReportDefinition("ola-compliance", "OLA compliance", _PERIOD, self.ola),
                ReportDefinition(
                    "by-reason-and-outcome",
                    "Escalations by reason and outcome",
                    _PERIOD,
                    self.by_reason,
                ),
            ]
        )

    async def _result(self, name: str, parameters: ReportParameters, table: Table) -> ReportResult:
        async with self.ctx.db.reading_connection() as conn:
            mark = await report_reads.watermark(conn)
        return ReportResult(
            report=name,
            as_of=parameters.at_period_end().as_of,
            generated_at=self.ctx.clock.now(),
            parameters=parameters.described(_PERIOD),
            formula_version=FORMULA_VERSION,
            data_watermark=mark.text(),
            tables=(table,),
        )

    async def ola(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        start, end = parameters.window()
        async with self.ctx.db.reading_connection() as conn:
            judged = await report_reads.judged_clocks(conn, start, end, _team(actor))
        by_team: dict[str, list[report_reads.JudgedClock]] = defaultdict(list)
        for clock in judged:
            by_team[clock.team].append(clock)
        rows = []
        for team, clocks in sorted(by_team.items()):
            breached = sum(BREACH in c.fired.split(",") for c in clocks)
            met = len(clocks) - breached
            answered = [c.business_spent_us // _US_PER_S for c in clocks if c.stopped]
            rows.append(
                (
                    team,
                    met,
                    breached,
                    percent(met, met + breached),
                    len(answered),
                    median(answered, HOUR_S),
                    p90(answered, HOUR_S),
                )
            )
        columns = (
            Column("team", _TEXT),
            Column("met", _INT),
            Column("breached", _INT),
            Column("compliance", ColumnType.PERCENT),
            Column("answered", _INT),
            Column("median_response_hours", _HOURS),
            Column("p90_response_hours", _HOURS),
        )
        return await self._result(
            "ola-compliance", parameters, Table("OLA compliance", columns, rows)
        )

    async def by_reason(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        start, end = parameters.window()
        async with self.ctx.db.reading_connection() as conn:
            groups = await report_reads.by_reason_and_outcome(conn, start, end, _team(actor))
        rows = [
            (
                g.team,
                g.reason_code,
                g.outcome_code,
                g.escalations,
                g.currency,
                Decimal(format_minor(g.amount_minor, g.currency)) if g.currency else None,
            )
            for g in groups
        ]
        columns = (
            Column("team", _TEXT),
            Column("reason", _TEXT),
            Column("outcome", _TEXT),
            Column("escalations", _INT),
            Column("currency", _TEXT),
            Column("amount", ColumnType.MONEY, "currency"),
        )
        table = Table("By reason and outcome", columns, rows)
        return await self._result("by-reason-and-outcome", parameters, table)
