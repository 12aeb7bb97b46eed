"""GetDispute / ListDisputes on the bare stack: the statement the disputes service runs
(services/disputes/data/reads.py: the page of cases and their items, clocks with their calendar's
version, notes and evidence in one UNION ALL, one branch per table padded with NULLs), written by
hand for asyncpg and run as the service runs it, without a transaction; answered as a Dispute with
its items and clocks. The ceiling: clock figures are calendar time read from the rows, where the
service computes business time on each calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from bench.baseline.pbconv import money
from settle.disputes.v1 import disputes_pb2 as dpb

SERVICE = "settle.disputes.v1.DisputesService"
# Each part's columns (as the union's rows hold them, with the types its NULL padding is cast
# to) and the part's ORDER BY.
PARTS = {
    "case": ("id varchar, customer_id varchar, title varchar, reason_code varchar, "
             "root_cause_code varchar, priority varchar, priority_rank int, status varchar, "
             "outcome varchar, pause_reason varchar, assignee varchar, coordinator varchar, "
             "external_ref varchar, currency varchar, customer_risk_class varchar, "
             "customer_bankruptcy bool, customer_in_litigation bool, sla_state varchar, "
             "due_at timestamptz, origin_traceparent varchar, version int, created_at timestamptz, "
             "updated_at timestamptz, resolved_at timestamptz", None),
    "items": ("dispute_id varchar, invoice_id varchar, position int, invoice_number varchar, "
              "line_numbers varchar, original_minor bigint, still_minor bigint, paid_minor bigint, "
              "credited_minor bigint, written_off_minor bigint", "position"),
    "clocks": ("sla_clocks.id varchar, dispute_id varchar, kind varchar, cycle int, "
               "status varchar, pausable bool, policy_id varchar, calendar_id varchar, "
               "target_value bigint, target_unit varchar, target_us bigint, "
               "warning_percents varchar, fired varchar, started_at timestamptz, "
               "spent_before_us bigint, running_since timestamptz, paused_total_us bigint, "
               "paused_since timestamptz, pause_reason varchar, stopped_at timestamptz, "
               "calendars.version int", "id"),
    "notes": ("id varchar, dispute_id varchar, text text, author varchar, created_at timestamptz",
              "created_at"),
    "evidence": ("id varchar, dispute_id varchar, uri varchar, description varchar, "
                 "added_by varchar, created_at timestamptz", "created_at"),
}  # fmt: skip
SOURCES = {
    "case": "page",
    "items": "dispute_items",
    "clocks": "sla_clocks LEFT JOIN calendars ON calendars.id = sla_clocks.calendar_id",
    "notes": "dispute_notes",
    "evidence": "dispute_evidence",
}
COLUMNS = {p: [c.split() for c in cols.split(", ")] for p, (cols, _) in PARTS.items()}
NAMES = {p: [name.rpartition(".")[2] for name, _ in cols] for p, cols in COLUMNS.items()}
NAMES["clocks"][-1] = "calendar_version"


def _branch(n: int, part: str) -> str:
    cells = [
        ", ".join(name for name, _ in COLUMNS[p])
        if p == part
        else ", ".join(f"CAST(NULL AS {kind})" for _, kind in COLUMNS[p])
        for p in PARTS
    ]
    where = (
        ""
        if part == "case"
        else f" WHERE {SOURCES[part].split()[0]}.dispute_id = ANY(ARRAY(SELECT id FROM page))"
    )
    return f"SELECT {n} AS part, {', '.join(cells)} FROM {SOURCES[part]}{where}"


def _read(page_where: str, page_order: str, order: str) -> str:
    """The service's statement for a page of cases: `page_where`/`page_order` select the page,
    `order` repeats its ORDER BY over the union's case columns (column numbers)."""
    union = " UNION ALL ".join(_branch(n, p) for n, p in enumerate(PARTS))
    at, keys = 2, []
    for part, (_, by) in PARTS.items():
        if by is not None:
            keys.append(str(at + NAMES[part].index(by)))
        at += len(NAMES[part])
    page = f"SELECT {', '.join(NAMES['case'])} FROM disputes WHERE {page_where}{page_order}"
    return f"WITH page AS ({page}) {union} ORDER BY 1{order}, {', '.join(keys)}"


_DUE, _ID = 2 + NAMES["case"].index("due_at"), 2 + NAMES["case"].index("id")
GET = _read("id = $1", "", "")
LIST = _read("status = $1 AND due_at >= $2", " ORDER BY due_at, id LIMIT $3 OFFSET 0",
             f", {_DUE}, {_ID}")  # fmt: skip


def _ts(value) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _clock(row) -> dpb.SlaClock:
    target = timedelta(microseconds=row["target_us"])
    running = row["status"] == "RUNNING"
    duration = Duration()
    duration.FromTimedelta(target)
    return dpb.SlaClock(
        kind=dpb.ClockKind.Value(row["kind"]),
        state=dpb.SlaClock.State.Value(row["status"]),
        target_duration=duration,
        start_time=_ts(row["started_at"]),
        due_time=_ts(row["started_at"] + target) if running else None,
        warned="WARNING" in row["fired"],
        breached="BREACH" in row["fired"],
        stop_time=_ts(row["stopped_at"]),
        policy=f"slaPolicies/{row['policy_id']}",
        calendar=f"calendars/{row['calendar_id']}",
    )


def _dispute(case, children) -> dpb.Dispute:
    cur = case["currency"]
    items = [
        dpb.DisputedItem(
            invoice=f"invoices/{i['invoice_id']}", invoice_number=i["invoice_number"],
            original_amount=money(i["original_minor"], cur),
            still_disputed_amount=money(i["still_minor"], cur),
            paid_amount=money(i["paid_minor"], cur),
            credited_amount=money(i["credited_minor"], cur),
            written_off_amount=money(i["written_off_minor"], cur),
        )
        for i in children["items"].get(case["id"], ())
    ]  # fmt: skip
    return dpb.Dispute(
        name=f"disputes/{case['id']}", customer=f"customers/{case['customer_id']}",
        title=case["title"], reason_code=case["reason_code"],
        priority=dpb.Priority.Value(case["priority"]),
        status=dpb.Dispute.Status.Value(case["status"]), currency_code=cur, items=items,
        clocks=[_clock(c) for c in children["clocks"].get(case["id"], ())],
        sla_state=dpb.SlaState.Value(case["sla_state"]), due_time=_ts(case["due_at"]),
        customer_risk_class=case["customer_risk_class"], etag=str(case["version"]),
        create_time=_ts(case["created_at"]), update_time=_ts(case["updated_at"]),
    )  # fmt: skip


def _split(rows) -> list[dpb.Dispute]:
    cases, children = [], {p: {} for p in PARTS if p != "case"}
    spans, at = {}, 1
    for part in PARTS:
        spans[part] = slice(at, at + len(NAMES[part]))
        at += len(NAMES[part])
    for row in rows:
        part = list(PARTS)[row[0]]
        values = dict(zip(NAMES[part], row[spans[part]], strict=True))
        if part == "case":
            cases.append(values)
        else:
            children[part].setdefault(values["dispute_id"], []).append(values)
    return [_dispute(case, children) for case in cases]


class CasesHandlers:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def get(self, request: dpb.GetDisputeRequest, context) -> dpb.Dispute:
        async with self.pool.acquire() as conn:
            found = _split(await conn.fetch(GET, request.name.split("/", 1)[1]))
        if not found:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such dispute")
        return found[0]

    async def list(self, request: dpb.ListDisputesRequest, context):
        terms = dict(t.split("=", 1) for t in request.filter.replace(">=", "=").split(" AND "))
        since = datetime.fromisoformat(terms["due_time"].replace("Z", "+00:00"))
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(LIST, terms["status"], since, request.page_size or 50)
        found = _split(rows)
        return dpb.ListDisputesResponse(disputes=found)

    def handlers(self) -> dict:
        def unary(fn, request_type):
            return grpc.unary_unary_rpc_method_handler(
                fn, request_type.FromString, lambda m: m.SerializeToString()
            )

        return {
            "GetDispute": unary(self.get, dpb.GetDisputeRequest),
            "ListDisputes": unary(self.list, dpb.ListDisputesRequest),
        }
