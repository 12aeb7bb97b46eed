"""Write-offs with four eyes: a collector requests one on a customer's invoices (drafted, then
submitted for approval), team leads and finance managers approve or reject in their approvals
inbox. How many approvals, whose limit counts and who may not approve are the service's rules."""

from __future__ import annotations

import asyncio
import uuid

from starlette.responses import Response
from starlette.routing import Route

from console.gateway import ApiError
from console.views.customer_actions import customer_name, open_invoices
from console.web import Ctx, field_errors, screen

FIELD_ALIASES = {
    "write_off.reason_code": "reason",
    "write_off.reasonCode": "reason",
    "write_off.lines": "lines",
    "write_off.evidence": "evidence",
    "write_off": "lines",
    "note": "note",
}
ACTIONS = ("submit", "approve", "reject", "cancel", "post", "reverse")
NOTICES = {"requested": "Write-off submitted for approval.", "done": "Saved."}


async def _form(ctx: Ctx, status: int = 200, **extra: object) -> Response:
    name = customer_name(ctx)
    found, invoices, reasons = await asyncio.gather(
        ctx.get(f"/v1/{name}"), open_invoices(ctx, name), ctx.get("/v1/writeOffReasons")
    )
    return ctx.render(
        "write_off.html",
        status,
        customer=found,
        invoices=invoices,
        reasons=reasons.get("reasons", []),
        request_id=ctx.field("request_id") or str(uuid.uuid4()),
        values=ctx.form or {},
        **extra,
    )


@screen
async def write_off_form(ctx: Ctx) -> Response:
    return await _form(ctx)


@screen
async def request_write_off(ctx: Ctx) -> Response:
    lines = [
        {
            "invoice": invoice,
            "amount": {
                "currencyCode": ctx.field(f"currency:{invoice}"),
                "amount": ctx.field(f"amount:{invoice}"),
            },
        }
        for invoice in ctx.fields("invoices")
    ]
    currency = lines[0]["amount"]["currencyCode"] if lines else ctx.field("currency")
    write_off = {
        "customer": customer_name(ctx),
        "currencyCode": currency,
        "lines": lines,
        "reasonCode": ctx.field("reason"),
        "evidence": [e for e in ctx.field("evidence").split() if e],
    }
    try:
        draft = await ctx.post("/v1/writeOffs", write_off, {"requestId": ctx.field("request_id")})
        await ctx.post(f"/v1/{draft['name']}:submit", {"etag": draft["etag"]})
    except ApiError as error:
        if error.status >= 500 or error.signed_out:
            raise
        return await _form(ctx, 400, error=error, errors=field_errors(error, FIELD_ALIASES))
    return ctx.redirect(f"/{customer_name(ctx)}?tab=writeoffs&notice=requested")


async def _approvals(ctx: Ctx, status: int = 200, **extra: object) -> Response:
    reply = await ctx.get("/v1/writeOffs", pageSize=200)
    write_offs = reply.get("writeOffs", [])
    return ctx.render(
        "approvals.html",
        status,
        pending=[w for w in write_offs if w.get("state") == "PENDING_APPROVAL"],
        approved=[w for w in write_offs if w.get("state") == "APPROVED"],
        notice=NOTICES.get(ctx.request.query_params.get("notice", "")),
        **extra,
    )


@screen
async def approvals(ctx: Ctx) -> Response:
    return await _approvals(ctx)


@screen
async def act(ctx: Ctx) -> Response:
    action = ctx.request.path_params["action"]
    if action not in ACTIONS:
        return ctx.render("error.html", 404, error=ApiError(404, "NOT_FOUND", "No such action."))
    name = f"writeOffs/{ctx.request.path_params['id']}"
    body = {"etag": ctx.field("etag"), "note": ctx.field("note")}
    try:
        await ctx.post(f"/v1/{name}:{action}", body)
    except ApiError as error:
        if error.status >= 500 or error.signed_out:
            raise
        return await _approvals(ctx, error.status, error=error, reload="/approvals")
    return ctx.redirect("/approvals?notice=done")


routes = [
    Route("/customers/{id:str}/writeoff", write_off_form, methods=["GET"]),
    Route("/customers/{id:str}/writeoff", request_write_off, methods=["POST"]),
    Route("/approvals", approvals),
    Route("/writeOffs/{id:str}/{action:str}", act, methods=["POST"]),
]
