"""CreateDispute on the bare stack, with the statements the disputes service runs: the request
id looked up (one statement, no transaction), the customer and the invoice asked of accounts
(two gRPC calls in parallel, as intake does), then one asyncpg transaction — the idempotency key
(stored with the case id chosen beforehand), per-invoice advisory lock, what is already
disputed, the case (due time included), its item, history, two clocks, six milestones (one
statement per table), the hold event in the outbox. Reason codes, SLA policies and calendars are
re-read at most once a second, as the service keeps them.

It is the ceiling, not a rival: clock due times are plain calendar arithmetic (the service works in
business time on the case's calendar) and the answer is the case as written, without the derived
views the service adds."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from bench.baseline.cases_bare import CasesHandlers
from settle.accounts.v1 import accounts_pb2 as apb
from settle.accounts.v1.accounts_pb2_grpc import AccountsServiceStub
from settle.disputes.v1 import disputes_pb2 as dpb

SERVICE = "settle.disputes.v1.DisputesService"
CLOCKS = (("ACKNOWLEDGE", 8 * 3600, False), ("RESOLVE", 10 * 8 * 3600, True))  # target s, pausable
STEPS = (("WARNING_50", 0.5), ("WARNING_75", 0.75), ("BREACH", 1.0))
REFERENCE_TTL_S = 1.0
SQL = {
    "earlier": "SELECT scope, key, fingerprint, resource_id, created_at FROM idempotency_keys "
    "WHERE scope = 'CreateDispute' AND key = $1",
    "key": "INSERT INTO idempotency_keys (scope, key, fingerprint, resource_id, created_at) "
    "VALUES ('CreateDispute', $1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING key",
    "reasons": "SELECT * FROM reason_codes",
    "lock": "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
    "mine": "SELECT invoice_id, sum(still_minor) FROM dispute_items WHERE invoice_id = $1 "
    "GROUP BY invoice_id",
    "case": "INSERT INTO disputes (id, customer_id, title, reason_code, priority, priority_rank, "
    "status, assignee, coordinator, external_ref, currency, customer_risk_class, "
    "customer_bankruptcy, customer_in_litigation, sla_state, due_at, origin_traceparent, version, "
    "created_at, updated_at) VALUES ($1, $2, $3, $4, 'MEDIUM', 2, 'NEW', '', '', '', $5, $6, $7, "
    "$8, 'ON_TRACK', $9, NULL, 1, $10, $10)",
    "item": "INSERT INTO dispute_items (dispute_id, invoice_id, position, invoice_number, "
    "line_numbers, original_minor, still_minor, paid_minor, credited_minor, written_off_minor) "
    "VALUES ($1, $2, 0, $3, '', $4, $4, 0, 0, 0)",
    "history": "INSERT INTO dispute_history (dispute_id, kind, actor, occurred_at, version, "
    "to_status, comment, details) VALUES ($1, $2, $3, $4, 1, $5, '', $6)",
    "policies": "SELECT * FROM sla_policies WHERE active",
    "calendars": "SELECT id, customer_id, version FROM calendars",
    "clock": "INSERT INTO sla_clocks (id, dispute_id, kind, cycle, status, pausable, policy_id, "
    "calendar_id, target_value, target_unit, target_us, warning_percents, fired, started_at, "
    "spent_before_us, running_since, paused_total_us) VALUES ($1, $2, $3, 1, 'RUNNING', $4, $5, "
    "'default', $6, 'BUSINESS_DAYS', $7, '50,75', '', $8, 0, $8, 0)",
    "milestone": "INSERT INTO clock_milestones (id, clock_id, dispute_id, name, due_at) "
    "VALUES ($1, $2, $3, $4, $5)",
    "outbox": "INSERT INTO outbox_events (id, destination, method, payload, subject, traceparent, "
    "created_at, available_at, attempts) VALUES ($1, 'accounts', "
    "'/settle.accounts.v1.AccountsService/PlaceHold', $2, $3, NULL, $4, $4, 0)",
}


def _minor(money) -> int:
    units, _, cents = money.amount.partition(".")
    return int(units) * 100 + int((cents + "00")[:2])


class DisputesHandlers:
    def __init__(self, pool: asyncpg.Pool, accounts: grpc.aio.Channel):
        self.pool = pool
        self.accounts = AccountsServiceStub(accounts)
        self._reference_read_at = -REFERENCE_TTL_S

    async def _reference(self, conn: asyncpg.Connection) -> None:
        """Reason codes, policies and calendars, re-read at most every REFERENCE_TTL_S."""
        if time.monotonic() - self._reference_read_at >= REFERENCE_TTL_S:
            self._reference_read_at = time.monotonic()
            for name in ("reasons", "policies", "calendars"):
                await conn.fetch(SQL[name])

    async def create(self, request: dpb.CreateDisputeRequest, context) -> dpb.Dispute:
        d = request.dispute
        invoice_name = d.items[0].invoice
        async with self.pool.acquire() as conn:
            await conn.fetchrow(SQL["earlier"], request.request_id)
            await self._reference(conn)
        customer, invoice = await asyncio.gather(
            self.accounts.GetCustomer(apb.GetCustomerRequest(name=d.customer), timeout=5),
            self.accounts.GetInvoice(apb.GetInvoiceRequest(name=invoice_name), timeout=5),
        )
        now = datetime.now(UTC)
        case_id, invoice_id = uuid.uuid4().hex, invoice_name.split("/", 1)[1]
        amount = _minor(invoice.open_amount) - _minor(invoice.held_amount)
        currency = invoice.amount.currency_code
        fingerprint = hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()
        async with self.pool.acquire() as conn, conn.transaction():
            key = request.request_id or uuid.uuid4().hex
            await conn.fetchval(SQL["key"], key, fingerprint, case_id, now)
            await conn.fetchval(SQL["lock"], f"disputes.invoice:{invoice_id}")
            await conn.fetch(SQL["mine"], invoice_id)
            risk = apb.RiskClass.Name(customer.risk_class) if customer.risk_class else "MEDIUM"
            resolve_due = now + timedelta(seconds=CLOCKS[1][1])
            await conn.execute(SQL["case"], case_id, d.customer.split("/", 1)[1], d.title,
                               d.reason_code, currency, risk, customer.bankruptcy,
                               customer.in_litigation, resolve_due, now)  # fmt: skip
            await conn.execute(SQL["item"], case_id, invoice_id, invoice.external_number, amount)
            clocks, milestones = [], []
            for kind, seconds, pausable in CLOCKS:
                clock_id = uuid.uuid4().hex
                clocks.append((clock_id, case_id, kind, pausable, f"{kind.lower()}-default",
                               seconds // (8 * 3600), seconds * 1_000_000, now))  # fmt: skip
                milestones += [
                    (
                        uuid.uuid4().hex,
                        clock_id,
                        case_id,
                        name,
                        now + timedelta(seconds=seconds * f),
                    )
                    for name, f in STEPS
                ]
            history = [(case_id, "CREATED", "bench", now, "NEW", "{}")] + [
                (case_id, "CLOCK_STARTED", "bench", now, None, "{}") for _ in CLOCKS
            ]
            await conn.executemany(SQL["history"], history)
            await conn.executemany(SQL["clock"], clocks)
            await conn.executemany(SQL["milestone"], milestones)
            hold = apb.PlaceHoldRequest(
                invoice=invoice_name,
                dispute=f"disputes/{case_id}",
                amount=invoice.open_amount,
                request_id=uuid.uuid4().hex,
            )
            await conn.execute(SQL["outbox"], hold.request_id, hold.SerializeToString(),
                               f"disputes/{case_id}", now)  # fmt: skip
        created = Timestamp()
        created.FromDatetime(now)
        return dpb.Dispute(
            name=f"disputes/{case_id}", customer=d.customer, title=d.title,
            reason_code=d.reason_code, priority=dpb.MEDIUM, status=dpb.Dispute.NEW,
            currency_code=currency, customer_risk_class=risk, create_time=created,
            update_time=created,
            items=[dpb.DisputedItem(invoice=invoice_name, invoice_number=invoice.external_number,
                                    original_amount=invoice.open_amount,
                                    still_disputed_amount=invoice.open_amount)],
        )  # fmt: skip

    def generic(self) -> grpc.GenericRpcHandler:
        create = grpc.unary_unary_rpc_method_handler(
            self.create, dpb.CreateDisputeRequest.FromString, lambda m: m.SerializeToString()
        )
        reads = CasesHandlers(self.pool).handlers()
        return grpc.method_handlers_generic_handler(SERVICE, {"CreateDispute": create, **reads})
