"""GetDispute / ListDisputes on the bare stack: the statements the disputes service runs (the case
rows, then its items, clocks, notes and evidence, then the clocks' calendars) with asyncpg in one
transaction, answered as a Dispute with its items and clocks. The ceiling: clock figures are
calendar time read from the rows, where the service computes business time on each calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from bench.baseline.pbconv import money
from settle.disputes.v1 import disputes_pb2 as dpb

SERVICE = "settle.disputes.v1.DisputesService"
_OF = "WHERE dispute_id = ANY($1::varchar[]) ORDER BY"
CHILDREN = {
    "items": f"SELECT * FROM dispute_items {_OF} position",
    "clocks": f"SELECT * FROM sla_clocks {_OF} id",
    "notes": f"SELECT * FROM dispute_notes {_OF} created_at",
    "evidence": f"SELECT * FROM dispute_evidence {_OF} created_at",
}
LIST = (
    "SELECT * FROM disputes WHERE status = $1 AND due_at >= $2 "
    "ORDER BY due_at, id LIMIT $3 OFFSET 0"
)


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


async def _load(conn: asyncpg.Connection, cases) -> list[dpb.Dispute]:
    ids = [c["id"] for c in cases]
    children: dict[str, dict[str, list]] = {}
    for name, sql in CHILDREN.items():
        grouped: dict[str, list] = {}
        for row in await conn.fetch(sql, ids) if ids else []:
            grouped.setdefault(row["dispute_id"], []).append(row)
        children[name] = grouped
    calendars = {c["calendar_id"] for rows in children["clocks"].values() for c in rows}
    if calendars:
        await conn.fetch("SELECT * FROM calendars WHERE id = ANY($1::varchar[])", list(calendars))
    return [_dispute(case, children) for case in cases]


class CasesHandlers:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def get(self, request: dpb.GetDisputeRequest, context) -> dpb.Dispute:
        async with self.pool.acquire() as conn, conn.transaction():
            cases = await conn.fetch(
                "SELECT * FROM disputes WHERE id = $1", request.name.split("/", 1)[1]
            )
            found = await _load(conn, cases)
        if not found:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such dispute")
        return found[0]

    async def list(self, request: dpb.ListDisputesRequest, context):
        terms = dict(t.split("=", 1) for t in request.filter.replace(">=", "=").split(" AND "))
        since = datetime.fromisoformat(terms["due_time"].replace("Z", "+00:00"))
        async with self.pool.acquire() as conn, conn.transaction():
            cases = await conn.fetch(LIST, terms["status"], since, request.page_size or 50)
            found = await _load(conn, cases)
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
