"""GetDispute / ListDisputes on the bare stack: the statement the disputes service runs
(services/disputes/data/reads.py: the page of cases and their items, clocks with their calendar's
version, notes and evidence in one UNION ALL, one branch per table padded with NULLs), written by
hand for asyncpg and run as the service runs it, without a transaction; answered as a Dispute with
every field the service answers (items, amounts, the current clock of each kind, notes, evidence,
etag, next page token). The ceiling: clock figures are calendar time read from the rows, where the
service computes business time on each calendar (the bench's clocks count calendar hours, so the
two agree); messages are filled in place (as the service fills them: no sub-message copied)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from bench.baseline.pbconv import amount_text
from common.listing import Page, PageTokens, query_key
from common.settings import DEV_INTERNAL_SECRET
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


KINDS, STATES = dict(dpb.ClockKind.items()), dict(dpb.SlaClock.State.items())
UNITS, PAUSES = dict(dpb.TimeUnit.items()), dict(dpb.PauseReason.items())
PRIORITIES, STATUSES = dict(dpb.Priority.items()), dict(dpb.Dispute.Status.items())
SLA_STATES, OUTCOMES = dict(dpb.SlaState.items()), dict(dpb.Outcome.items())
TOTALS = (("original", "original_minor"), ("still_disputed", "still_minor"),
          ("paid", "paid_minor"), ("credited", "credited_minor"),
          ("written_off", "written_off_minor"))  # fmt: skip
_DUE, _ID = 2 + NAMES["case"].index("due_at"), 2 + NAMES["case"].index("id")
GET = _read("id = $1", "", "")
LIST = _read("status = $1 AND due_at >= $2", " ORDER BY due_at, id LIMIT $3 OFFSET 0",
             f", {_DUE}, {_ID}")  # fmt: skip


def _set_ts(field: Timestamp, value: datetime) -> None:
    field.FromDatetime(value)


def _money(field, minor: int, cur: str) -> None:
    field.currency_code, field.amount = cur, amount_text(minor, cur)


def _clock(msg: dpb.SlaClock, row, now: datetime) -> None:
    target, before = timedelta(microseconds=row["target_us"]), _us(row["spent_before_us"])
    running = row["status"] == "RUNNING"
    spent = before + (now - row["running_since"] if running else timedelta(0))
    fired = row["fired"].split(",")
    msg.kind, msg.state = KINDS[row["kind"]], STATES[row["status"]]
    msg.target.value, msg.target.unit = row["target_value"], UNITS[row["target_unit"]]
    msg.target_duration.FromTimedelta(target)
    _set_ts(msg.start_time, row["started_at"])
    if running:
        _set_ts(msg.due_time, row["running_since"] + max(target - before, timedelta(0)))
    msg.business_time_spent.FromTimedelta(spent)
    msg.business_time_remaining.FromTimedelta(target - spent)
    msg.warned = any(f.startswith("WARNING") for f in fired)
    msg.breached = "BREACH" in fired
    if row["pause_reason"]:
        msg.pause_reason = PAUSES[row["pause_reason"]]
    msg.paused_time.FromTimedelta(_us(row["paused_total_us"]))
    if row["stopped_at"] is not None:
        _set_ts(msg.stop_time, row["stopped_at"])
    msg.policy, msg.calendar = f"slaPolicies/{row['policy_id']}", f"calendars/{row['calendar_id']}"


def _us(micros: int) -> timedelta:
    return timedelta(microseconds=micros)


def _item(msg: dpb.DisputedItem, i, cur: str) -> None:
    msg.invoice, msg.invoice_number = f"invoices/{i['invoice_id']}", i["invoice_number"]
    msg.line_numbers.extend(int(n) for n in i["line_numbers"].split(",") if n)
    _money(msg.amount, i["original_minor"], cur)
    _money(msg.original_amount, i["original_minor"], cur)
    _money(msg.still_disputed_amount, i["still_minor"], cur)
    _money(msg.paid_amount, i["paid_minor"], cur)
    _money(msg.credited_amount, i["credited_minor"], cur)
    _money(msg.written_off_amount, i["written_off_minor"], cur)


def _dispute(case, children, now: datetime) -> dpb.Dispute:
    cur, case_id = case["currency"], case["id"]
    items = children["items"].get(case_id, ())
    msg = dpb.Dispute(
        name=f"disputes/{case_id}", uid=case_id, customer=f"customers/{case['customer_id']}",
        title=case["title"], reason_code=case["reason_code"],
        priority=PRIORITIES[case["priority"]], external_ref=case["external_ref"],
        assignee=case["assignee"], coordinator=case["coordinator"],
        status=STATUSES[case["status"]], root_cause_code=case["root_cause_code"] or "",
        currency_code=cur, sla_state=SLA_STATES[case["sla_state"]],
        customer_risk_class=case["customer_risk_class"],
        etag=hashlib.blake2b(f"{case_id}:{case['version']}".encode(), digest_size=8).hexdigest(),
    )  # fmt: skip
    if case["outcome"]:
        msg.outcome = OUTCOMES[case["outcome"]]
    if case["pause_reason"]:
        msg.pause_reason = PAUSES[case["pause_reason"]]
    for i in items:
        _item(msg.items.add(), i, cur)
    for name, column in TOTALS:
        _money(getattr(msg.amounts, name), sum(i[column] for i in items), cur)
    # the newest clock of each kind (a reopened case has a newer resolve clock), by kind
    current = {}
    for c in children["clocks"].get(case_id, ()):
        if c["kind"] not in current or c["cycle"] >= current[c["kind"]]["cycle"]:
            current[c["kind"]] = c
    for kind in sorted(current):
        _clock(msg.clocks.add(), current[kind], now)
    for n in children["notes"].get(case_id, ()):
        note = msg.notes.add(name=f"disputes/{case_id}/notes/{n['id']}", text=n["text"],
                             author=n["author"])  # fmt: skip
        _set_ts(note.create_time, n["created_at"])
    for e in children["evidence"].get(case_id, ()):
        added = msg.evidence.add(name=f"disputes/{case_id}/evidence/{e['id']}", uri=e["uri"],
                                 description=e["description"], added_by=e["added_by"])  # fmt: skip
        _set_ts(added.create_time, e["created_at"])
    _set_ts(msg.create_time, case["created_at"])
    _set_ts(msg.update_time, case["updated_at"])
    if case["due_at"] is not None:
        _set_ts(msg.due_time, case["due_at"])
    if case["resolved_at"] is not None:
        _set_ts(msg.resolve_time, case["resolved_at"])
    return msg


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
    now = datetime.now(UTC)
    return [_dispute(case, children, now) for case in cases]


class CasesHandlers:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool
        self.pages = PageTokens(DEV_INTERNAL_SECRET, "disputes")  # the bench's disputes process

    async def get(self, request: dpb.GetDisputeRequest, context) -> dpb.Dispute:
        async with self.pool.acquire() as conn:
            found = _split(await conn.fetch(GET, request.name.split("/", 1)[1]))
        if not found:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such dispute")
        return found[0]

    async def list(self, request: dpb.ListDisputesRequest, context):
        terms = dict(t.split("=", 1) for t in request.filter.replace(">=", "=").split(" AND "))
        since = datetime.fromisoformat(terms["due_time"].replace("Z", "+00:00"))
        size = request.page_size or 50
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(LIST, terms["status"], since, size)
        found = _split(rows)
        key = query_key(request.filter, (request.order_by, False))
        token = self.pages.next_token(Page(0, size), len(found), key)
        return dpb.ListDisputesResponse(disputes=found, next_page_token=token)

    def handlers(self) -> dict:
        def unary(fn, request_type):
            return grpc.unary_unary_rpc_method_handler(
                fn, request_type.FromString, lambda m: m.SerializeToString()
            )

        return {
            "GetDispute": unary(self.get, dpb.GetDisputeRequest),
            "ListDisputes": unary(self.list, dpb.ListDisputesRequest),
        }
