"""The customer's actions: log an interaction (with a promise when the outcome needs one), take
a promise, open a dispute, escalate the account. Each form is re-shown with the gateway's field
violations next to their fields; the service decides what is valid."""

from __future__ import annotations

import asyncio
import uuid

from starlette.responses import Response
from starlette.routing import Route

from console.gateway import ApiError
from console.web import Ctx, field_errors, screen

LOG_FIELDS = {
    "interaction.outcome_code": "outcome",
    "interaction.outcomeCode": "outcome",
    "interaction.channel": "channel",
    "interaction.direction": "direction",
    "interaction.note": "note",
    "interaction.call_back_time": "call_back",
    "interaction.callBackTime": "call_back",
    "interaction.invoices": "invoices",
    "promise_plan.promise.amount": "promise_amount",
    "promise_plan.promise.promised_date": "promise_date",
    "promise_plan.promise.invoices": "invoices",
    "promise_plan": "promise_amount",
    "promisePlan": "promise_amount",
}
DISPUTE_FIELDS = {
    "dispute.title": "title",
    "dispute.reason_code": "reason",
    "dispute.reasonCode": "reason",
    "dispute.priority": "priority",
    "dispute.external_ref": "external_ref",
    "dispute.items": "invoices",
    "dispute.first_note": "note",
}
ESCALATE_FIELDS = {
    "team": "team",
    "reason_code": "reason",
    "reasonCode": "reason",
    "summary": "summary",
}
CHANNELS = ("PHONE", "EMAIL", "LETTER", "PORTAL", "MEETING")
PRIORITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
TEAMS = ("SALES", "GBS", "LEGAL", "TEAM_LEAD")
ESCALATION_REASONS = (
    "PRICING_AUTHORITY",
    "BILLING_CORRECTION",
    "MASTER_DATA_FIX",
    "CREDIT_MEMO_APPROVAL",
    "INSOLVENCY_NOTICE",
    "LITIGATION_THREAT",
    "FRAUD",
    "WRITE_OFF_AUTHORITY",
)


def customer_name(ctx: Ctx) -> str:
    return f"customers/{ctx.request.path_params['id']}"


async def open_invoices(ctx: Ctx, name: str) -> list[dict]:
    reply = await ctx.get(
        "/v1/invoices", filter=f"customer={name} AND status=OPEN", orderBy="due_date", pageSize=200
    )
    return reply.get("invoices", [])


def promise_plan(ctx: Ctx, currency: str, invoices: list[str]) -> dict | None:
    amount, date = ctx.field("promise_amount"), ctx.field("promise_date")
    if not amount and not date:
        return None
    promise = {"amount": {"currencyCode": currency, "amount": amount}, "invoices": invoices}
    if date:
        promise["promisedDate"] = date
    return {"promise": promise}


def local_to_rfc3339(value: str) -> str:
    """A datetime-local input ("2026-03-02T09:30") read as UTC, the console's display zone."""
    return f"{value}:00Z" if len(value) == 16 else value


async def _log_form(ctx: Ctx, status: int = 200, **extra: object) -> Response:
    name = customer_name(ctx)
    found, invoices, outcomes = await asyncio.gather(
        ctx.get(f"/v1/{name}"), open_invoices(ctx, name), ctx.get("/v1/outcomeCodes")
    )
    return ctx.render(
        "log_interaction.html",
        status,
        customer=found,
        invoices=invoices,
        outcomes=outcomes.get("outcomeCodes", []),
        channels=CHANNELS,
        back=ctx.request.query_params.get("back", "") or ctx.field("back"),
        request_id=ctx.field("request_id") or str(uuid.uuid4()),
        values=ctx.form or {},
        **extra,
    )


@screen
async def log_form(ctx: Ctx) -> Response:
    return await _log_form(ctx)


@screen
async def log_interaction(ctx: Ctx) -> Response:
    name = customer_name(ctx)
    invoices = ctx.fields("invoices")
    interaction = {
        "channel": ctx.field("channel", "PHONE"),
        "direction": ctx.field("direction", "OUTBOUND"),
        "outcomeCode": ctx.field("outcome"),
        "note": ctx.field("note"),
        "invoices": invoices,
    }
    if ctx.field("call_back"):
        interaction["callBackTime"] = local_to_rfc3339(ctx.field("call_back"))
    # a retry of the same submission (double click, resend) is answered once by the service
    body: dict = {"interaction": interaction, "requestId": ctx.field("request_id")}
    plan = promise_plan(ctx, ctx.field("currency"), invoices)
    if plan is not None:
        body["promisePlan"] = plan
    try:
        await ctx.post(f"/v1/{name}/interactions", body)
    except ApiError as error:
        if error.status >= 500 or error.signed_out:
            raise
        return await _log_form(ctx, 400, error=error, errors=field_errors(error, LOG_FIELDS))
    if ctx.field("back") == "worklist":
        return ctx.redirect("/worklist?notice=logged")
    return ctx.redirect(f"/{name}?tab=timeline&notice=logged")


async def _dispute_form(ctx: Ctx, status: int = 200, **extra: object) -> Response:
    name = customer_name(ctx)
    found, invoices, reasons = await asyncio.gather(
        ctx.get(f"/v1/{name}"), open_invoices(ctx, name), ctx.get("/v1/reasonCodes")
    )
    return ctx.render(
        "open_dispute.html",
        status,
        customer=found,
        invoices=invoices,
        reasons=reasons.get("reasonCodes", []),
        priorities=PRIORITIES,
        request_id=ctx.field("request_id") or str(uuid.uuid4()),
        values=ctx.form or {},
        **extra,
    )


@screen
async def dispute_form(ctx: Ctx) -> Response:
    return await _dispute_form(ctx)


@screen
async def open_dispute(ctx: Ctx) -> Response:
    items = []
    for invoice in ctx.fields("invoices"):
        item: dict = {"invoice": invoice}
        partial = ctx.field(f"amount:{invoice}")
        if partial:
            item["amount"] = {"currencyCode": ctx.field(f"currency:{invoice}"), "amount": partial}
        items.append(item)
    dispute = {
        "customer": customer_name(ctx),
        "title": ctx.field("title"),
        "reasonCode": ctx.field("reason"),
        "priority": ctx.field("priority", "MEDIUM"),
        "externalRef": ctx.field("external_ref"),
        "firstNote": ctx.field("note"),
        "items": items,
    }
    try:
        created = await ctx.post("/v1/disputes", dispute, {"requestId": ctx.field("request_id")})
    except ApiError as error:
        if error.status >= 500 or error.signed_out:
            raise
        return await _dispute_form(
            ctx, 400, error=error, errors=field_errors(error, DISPUTE_FIELDS)
        )
    return ctx.redirect(f"/{created['name']}?notice=opened")


async def _escalate_form(ctx: Ctx, status: int = 200, **extra: object) -> Response:
    return ctx.render(
        "escalate.html",
        status,
        subject=await ctx.get(f"/v1/{customer_name(ctx)}"),
        subject_kind="customer",
        action=f"/{customer_name(ctx)}/escalate",
        teams=TEAMS,
        reasons=ESCALATION_REASONS,
        values=ctx.form or {},
        **extra,
    )


@screen
async def escalate_form(ctx: Ctx) -> Response:
    return await _escalate_form(ctx)


@screen
async def escalate(ctx: Ctx) -> Response:
    body = {
        "subject": customer_name(ctx),
        "team": ctx.field("team"),
        "reasonCode": ctx.field("reason"),
        "summary": ctx.field("summary"),
    }
    try:
        await ctx.post("/v1/escalations:raise", body)
    except ApiError as error:
        if error.status >= 500 or error.signed_out:
            raise
        return await _escalate_form(
            ctx, 400, error=error, errors=field_errors(error, ESCALATE_FIELDS)
        )
    return ctx.redirect(f"/{customer_name(ctx)}?notice=escalated")


routes = [
    Route("/customers/{id:str}/log", log_form, methods=["GET"]),
    Route("/customers/{id:str}/log", log_interaction, methods=["POST"]),
    Route("/customers/{id:str}/dispute", dispute_form, methods=["GET"]),
    Route("/customers/{id:str}/dispute", open_dispute, methods=["POST"]),
    Route("/customers/{id:str}/escalate", escalate_form, methods=["GET"]),
    Route("/customers/{id:str}/escalate", escalate, methods=["POST"]),
]
