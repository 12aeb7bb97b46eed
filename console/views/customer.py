"""Screen 2, Customer: header figures and the tabs (invoices, disputes, promises, timeline)."""

from __future__ import annotations

import asyncio
import base64

from starlette.responses import Response
from starlette.routing import Route

from console.web import Ctx, screen

TABS = ("invoices", "disputes", "promises", "timeline", "dunning", "writeoffs")
NOTICES = {
    "logged": "Interaction logged.",
    "promised": "Promise recorded.",
    "escalated": "Escalation raised.",
    "requested": "Write-off submitted for approval.",
}
STATEMENT_FORMATS = {"pdf": "PDF", "csv": "CSV"}


async def load_tab(ctx: Ctx, name: str, tab: str) -> list[dict]:
    if tab == "invoices":
        reply = await ctx.get(
            "/v1/invoices", filter=f"customer={name}", orderBy="due_date", pageSize=200
        )
        return reply.get("invoices", [])
    if tab == "disputes":
        reply = await ctx.get(
            "/v1/disputes", filter=f"customer={name}", orderBy="create_time desc", pageSize=100
        )
        return reply.get("disputes", [])
    if tab == "promises":
        return (await ctx.get(f"/v1/{name}/promises", pageSize=100)).get("promises", [])
    if tab == "dunning":
        return (await ctx.get(f"/v1/{name}/notices", pageSize=100)).get("notices", [])
    if tab == "writeoffs":
        return (await ctx.get("/v1/writeOffs", customer=name, pageSize=100)).get("writeOffs", [])
    return (await ctx.get(f"/v1/{name}/timeline", pageSize=100)).get("entries", [])


@screen
async def customer(ctx: Ctx) -> Response:
    name = f"customers/{ctx.request.path_params['id']}"
    tab = ctx.request.query_params.get("tab", "invoices")
    tab = tab if tab in TABS else "invoices"
    found, record, balance, rows = await asyncio.gather(
        ctx.get(f"/v1/{name}"),
        ctx.get(f"/v1/{name}/promiseRecord"),
        ctx.get(f"/v1/{name}/balance"),
        load_tab(ctx, name, tab),
    )
    return ctx.render(
        "customer.html",
        customer=found,
        record=record,
        balances=balance.get("balances", []),
        tab=tab,
        tabs=TABS,
        rows=rows,
        notice=NOTICES.get(ctx.request.query_params.get("notice", "")),
    )


@screen
async def statement(ctx: Ctx) -> Response:
    """The statement of account as the service renders it (PDF or CSV), handed to the browser."""
    name = f"customers/{ctx.request.path_params['id']}"
    wanted = STATEMENT_FORMATS.get(ctx.request.query_params.get("format", "pdf"), "PDF")
    document = await ctx.get(f"/v1/{name}/statement", format=wanted)
    file_name = document.get("fileName") or "statement"
    return Response(
        base64.b64decode(document.get("content", "")),
        media_type=document.get("contentType") or "application/octet-stream",
        headers={"content-disposition": f'attachment; filename="{file_name}"'},
    )


routes = [
    Route("/customers/{id:str}", customer),
    Route("/customers/{id:str}/statement", statement),
]
