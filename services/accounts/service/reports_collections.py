"""The accounts' collections reports (docs/reports.md §12–§16): what is still to collect per
bucket, cash collected against target, promises, the dunning log and write-offs by reason. Rows
come from data/report_reads_collections.py; each run reads as its caller, as the other accounts
reports do (service/reports.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, timedelta
from typing import TYPE_CHECKING

from common.actor import Actor
from common.reports.catalog import Parameter, ReportParameters
from common.reports.envelope import Column, ColumnType, ReportResult, Row, Table
from common.reports.figures import percent
from services.accounts.data import report_reads, report_reads_items
from services.accounts.data import report_reads_collections as reads
from services.accounts.domain.aging import AgingBuckets
from services.accounts.domain.collectible import to_collect
from services.accounts.domain.promises import PromiseState, kept_rate_percent
from services.accounts.service.promised import promised_on
from services.accounts.service.report_scope import amount, report_scope

if TYPE_CHECKING:
    from services.accounts.service.reports import AccountsReports

_MONEY, _TEXT, _INT = ColumnType.MONEY, ColumnType.TEXT, ColumnType.INT
PERIOD_ONLY = frozenset({Parameter.PERIOD})


class CollectionsReports:
    """Built by service/reports.py's AccountsReports, whose `result` adds the provenance."""

    def __init__(self, reports: AccountsReports):
        self.reports = reports
        self.db = reports.ctx.db

    # --- §12 what is still to collect, per bucket -----------------------------------------------

    async def collectible_aging(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        scope = report_scope(actor)
        bounds = parameters.bucket_bounds
        buckets = list(AgingBuckets.parse(",".join(str(b) for b in bounds)))
        on = parameters.as_of.astimezone(UTC).date()
        sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # open, held, promised, n
        async with report_reads.connection(self.db) as conn:
            for cell in await reads.collectible_cells(conn, on, bounds, scope):
                key = (cell.collector, cell.team, cell.currency, cell.bucket, cell.in_legal,
                       cell.blocked)  # fmt: skip
                sums[key][0] += cell.open_minor
                sums[key][1] += cell.held_minor
                sums[key][3] += cell.invoices
            promised = await promised_on(
                conn, await reads.customers_with_open_promises(conn, scope)
            )
            for place in await reads.invoice_places(conn, [*promised.per_invoice], on, bounds):
                key = (place.collector, place.team, place.currency, place.bucket,
                       place.in_legal, place.blocked)  # fmt: skip
                if key in sums:  # an invoice outside the caller's scope is not in `sums`
                    sums[key][2] += promised.on(place.invoice_id)
        rows: dict[tuple, list[int]] = defaultdict(lambda: [0] * 7)
        for (collector, team, currency, bucket, in_legal, blocked), s in sums.items():
            open_minor, held, placed, invoices = s
            # Each invoice's terms are non-negative (a promise is placed only within open − held),
            # so to_collect over the group's sums is the sum of its invoices' figures.
            still = to_collect(open_minor, held, placed)
            row = rows[(collector, team, currency, bucket)]
            row[0] += open_minor
            row[1] += held
            row[2] += placed
            row[3] += still if in_legal else 0
            row[4] += still if blocked and not in_legal else 0
            row[5] += still if not (in_legal or blocked) else 0
            row[6] += invoices
        table_rows = [
            (
                collector,
                team,
                currency,
                buckets[bucket].label,
                *(amount(m, currency) for m in r[:6]),
                r[6],
            )
            for (collector, team, currency, bucket), r in sorted(rows.items())
        ]
        columns = (
            Column("collector", _TEXT),
            Column("team", _TEXT),
            Column("currency", _TEXT),
            Column("bucket", _TEXT),
            Column("open", _MONEY, "currency"),
            Column("in_dispute", _MONEY, "currency"),
            Column("promised", _MONEY, "currency"),
            Column("in_legal", _MONEY, "currency"),
            Column("blocked", _MONEY, "currency"),
            Column("dunnable", _MONEY, "currency"),
            Column("invoices", _INT),
        )
        accepts = frozenset({Parameter.BUCKET_BOUNDS})
        table = Table("Collectible aging", columns, table_rows)
        return await self.reports.result("aging-collectible", parameters, accepts, [table])

    # --- §18 open items -------------------------------------------------------------------------

    async def open_items(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        """One row per open invoice today, streamed page by page (a portfolio's million rows)."""
        today = parameters.as_of.astimezone(UTC).date()
        columns = (
            Column("customer_id", _TEXT),
            Column("customer", _TEXT),
            Column("collector", _TEXT),
            Column("team", _TEXT),
            Column("invoice", _TEXT),
            Column("invoice_date", ColumnType.DATE),
            Column("due_date", ColumnType.DATE),
            Column("days_past_due", _INT),
            Column("currency", _TEXT),
            Column("open", _MONEY, "currency"),
            Column("in_dispute", _MONEY, "currency"),
        )
        rows = _open_item_rows(self.db, report_scope(actor), today)
        table = Table("Open items", columns, rows)
        return await self.reports.result("open-items", parameters, frozenset(), [table])

    # --- §13 cash collected against target --------------------------------------------------------

    async def cash_against_target(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        start, end = parameters.period_start, parameters.period_end
        assert start is not None and end is not None
        async with report_reads.connection(self.db) as conn:
            collected = await reads.cash_collected(conn, start, end, report_scope(actor))
        targets = {(t.collector, t.currency): t.amount for t in parameters.targets}
        found = {(c.collector, c.currency): c for c in collected}
        rows = []
        for collector, currency in sorted({*found, *targets}):
            cash = found.get((collector, currency))
            got = amount(cash.collected_minor if cash else 0, currency)
            target = targets.get((collector, currency))
            rows.append(
                (
                    collector,
                    cash.team if cash else "",
                    currency,
                    got,
                    target,
                    None if target is None else percent(got, target),
                    cash.invoices if cash else 0,
                )
            )
        columns = (
            Column("collector", _TEXT),
            Column("team", _TEXT),
            Column("currency", _TEXT),
            Column("collected", _MONEY, "currency"),
            Column("target", _MONEY, "currency"),
            Column("attainment", ColumnType.PERCENT),
            Column("invoices_paid", _INT),
        )
        accepts = frozenset({Parameter.PERIOD, Parameter.TARGETS})
        table = Table("Cash against target", columns, rows)
        return await self.reports.result(
            "cash-against-target", parameters.at_period_end(), accepts, [table]
        )

    # --- §14 promises ---------------------------------------------------------------------------

    async def promises(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        start, end = parameters.period_start, parameters.period_end
        assert start is not None and end is not None
        scope = report_scope(actor)
        async with report_reads.connection(self.db) as conn:
            still_open = await reads.open_promises(conn, scope)
            judged = await reads.judged_promises(conn, parameters.window(), scope)
        this_monday = end - timedelta(days=end.weekday())
        horizons: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 8)
        for p in still_open:
            index = _horizon(p.promised_date, end, this_monday)
            cell = horizons[(p.collector, p.currency)]
            cell[2 * index] += 1
            cell[2 * index + 1] += p.amount_minor
        open_rows = [
            (collector, currency,
             *(v if i % 2 == 0 else amount(v, currency) for i, v in enumerate(cell)))
            for (collector, currency), cell in sorted(horizons.items())
        ]  # fmt: skip
        open_columns = [Column("collector", _TEXT), Column("currency", _TEXT)]
        for horizon in ("overdue", "this_week", "next_week", "later"):
            open_columns += [
                Column(f"{horizon}_count", _INT),
                Column(f"{horizon}_amount", _MONEY, "currency"),
            ]
        outcomes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        broken: dict[tuple[str, str], int] = defaultdict(int)
        for j in judged:
            outcomes[j.collector][j.state] += j.promises
            if j.state == PromiseState.BROKEN.value:
                broken[(j.collector, j.currency)] += j.amount_minor
        judged_rows = []
        for collector, counts in sorted(outcomes.items()):
            kept = counts[PromiseState.KEPT.value]
            partly = counts[PromiseState.PARTIALLY_KEPT.value]
            lost = counts[PromiseState.BROKEN.value]
            judged_rows.append(
                (collector, kept, partly, lost, kept + partly + lost,
                 kept_rate_percent(kept, kept + partly + lost))
            )  # fmt: skip
        judged_columns = (
            Column("collector", _TEXT),
            Column("kept", _INT),
            Column("partially_kept", _INT),
            Column("broken", _INT),
            Column("judged", _INT),
            Column("kept_rate", ColumnType.PERCENT),
        )
        broken_rows = [
            (collector, currency, amount(minor, currency))
            for (collector, currency), minor in sorted(broken.items())
        ]
        broken_columns = (
            Column("collector", _TEXT),
            Column("currency", _TEXT),
            Column("broken_amount", _MONEY, "currency"),
        )
        tables = [
            Table("Open promises", tuple(open_columns), open_rows),
            Table("Judged promises", judged_columns, judged_rows),
            Table("Broken promises", broken_columns, broken_rows),
        ]
        return await self.reports.result(
            "promises", parameters.at_period_end(), PERIOD_ONLY, tables
        )

    # --- §15 dunning log -----------------------------------------------------------------------

    async def dunning_log(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        start, end = parameters.period_start, parameters.period_end
        assert start is not None and end is not None
        scope = report_scope(actor)
        async with report_reads.connection(self.db) as conn:
            decisions = await reads.dunning_decisions(conn, start, end, scope)
            notices = await reads.dunning_notices(conn, start, end, scope)
        decision_rows = [(d.outcome, d.currency, d.decisions) for d in decisions]
        by_notice: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        states = {"SENT": 0, "QUEUED": 1, "FAILED": 2}
        for n in notices:
            cell = by_notice[(n.level, n.level_code, n.channel, n.currency)]
            cell[states.get(n.state, 1)] += n.notices
            cell[3] += n.total_minor
        notice_rows = [
            (level, code, channel, currency, *cell[:3], amount(cell[3], currency))
            for (level, code, channel, currency), cell in sorted(by_notice.items())
        ]
        tables = [
            Table(
                "Decisions",
                (Column("outcome", _TEXT), Column("currency", _TEXT), Column("count", _INT)),
                decision_rows,
            ),
            Table(
                "Notices",
                (
                    Column("level", _INT),
                    Column("level_code", _TEXT),
                    Column("channel", _TEXT),
                    Column("currency", _TEXT),
                    Column("sent", _INT),
                    Column("queued", _INT),
                    Column("failed", _INT),
                    Column("amount_dunned", _MONEY, "currency"),
                ),
                notice_rows,
            ),
        ]
        return await self.reports.result(
            "dunning-log", parameters.at_period_end(), PERIOD_ONLY, tables
        )

    # --- §16 write-offs by reason ---------------------------------------------------------------

    async def write_offs(self, parameters: ReportParameters, actor: Actor) -> ReportResult:
        start, end = parameters.period_start, parameters.period_end
        assert start is not None and end is not None
        async with report_reads.connection(self.db) as conn:
            moves = await reads.write_off_moves(conn, start, end, report_scope(actor))
        rows = [
            (m.reason_code, m.reason, m.currency, m.posted, amount(m.posted_minor, m.currency),
             m.reversed, amount(m.reversed_minor, m.currency),
             amount(m.posted_minor - m.reversed_minor, m.currency))
            for m in moves
        ]  # fmt: skip
        columns = (
            Column("reason_code", _TEXT),
            Column("reason", _TEXT),
            Column("currency", _TEXT),
            Column("posted", _INT),
            Column("posted_amount", _MONEY, "currency"),
            Column("reversed", _INT),
            Column("reversed_amount", _MONEY, "currency"),
            Column("net_written_off", _MONEY, "currency"),
        )
        table = Table("Write-offs by reason", columns, rows)
        return await self.reports.result(
            "write-offs", parameters.at_period_end(), PERIOD_ONLY, [table]
        )


async def _open_item_rows(db, scope: tuple[str, str], today: date) -> AsyncIterator[Row]:
    async for i in report_reads_items.open_items(db, scope):
        yield (
            i.customer_id, i.customer, i.collector, i.team, i.number, i.invoice_date, i.due_date,
            max(0, (today - i.due_date).days), i.currency, amount(i.open_minor, i.currency),
            amount(i.held_minor, i.currency),
        )  # fmt: skip


def _horizon(promised: date, end: date, this_monday: date) -> int:
    """0 overdue (before the as-of day), 1 the rest of its week, 2 the next week, 3 later."""
    if promised < end:
        return 0
    if promised < this_monday + timedelta(days=7):
        return 1
    if promised < this_monday + timedelta(days=14):
        return 2
    return 3
