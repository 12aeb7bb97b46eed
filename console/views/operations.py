"""Screens 5 and 6 as far as the API goes. Team lead: a collector's or the team's worklist and
reassignment. SRE: cases breached or warned (each linking to its clocks and traces) and the
services' outboxes (pending and parked events)."""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.routing import Route

from console.gateway import ApiError
from console.web import Ctx, field_errors, screen

SERVICES = ("accounts", "disputes", "escalation")
REASSIGN_FIELDS = {"customers": "customers", "collector": "collector"}


async def _team_page(ctx: Ctx, status: int = 200, **extra: object) -> Response:
    collector = ctx.request.query_params.get("collector", "")
    reply = await ctx.get("/v1/worklist", collector=collector, team=ctx.session.team, pageSize=200)
    return ctx.render(
        "team.html",
        status,
        collector=collector,
        items=reply.get("items", []),
        reply=reply,
        values=ctx.form or {},
        notice="Customers reassigned." if ctx.request.query_params.get("notice") else None,
        **extra,
    )


@screen
async def team(ctx: Ctx) -> Response:
    return await _team_page(ctx)


@screen
async def reassign(ctx: Ctx) -> Response:
    body = {
        "customers": ctx.fields("customers"),
        "collector": ctx.field("collector"),
        "team": ctx.session.team,
    }
    try:
        await ctx.post("/v1/customers:bulkReassign", body)
    except ApiError as error:
        if error.status >= 500 or error.signed_out:
            raise
        return await _team_page(
            ctx, error.status, error=error, errors=field_errors(error, REASSIGN_FIELDS)
        )
    return ctx.redirect("/team?notice=reassigned")


async def _outbox(ctx: Ctx, service: str) -> dict:
    try:
        pending, parked = await asyncio.gather(
            ctx.get(f"/v1/outboxes/{service}/events", filter="state=PENDING", pageSize=100),
            ctx.get(f"/v1/outboxes/{service}/events", filter="state=PARKED", pageSize=100),
        )
    except ApiError as error:
        if error.signed_out:
            raise
        return {"service": service, "error": error.message}
    return {
        "service": service,
        "pending": pending.get("events", []),
        "parked": parked.get("events", []),
    }


@screen
async def sre(ctx: Ctx) -> Response:
    breached, warned, *outboxes = await asyncio.gather(
        ctx.get("/v1/disputes", filter="sla_state=BREACHED", orderBy="due_time", pageSize=100),
        ctx.get("/v1/disputes", filter="sla_state=WARNED", orderBy="due_time", pageSize=100),
        *(_outbox(ctx, service) for service in SERVICES),
    )
    return ctx.render(
        "sre.html",
        breached=breached.get("disputes", []),
        warned=warned.get("disputes", []),
        outboxes=outboxes,
    )


routes = [
    Route("/team", team, methods=["GET"]),
    Route("/team/reassign", reassign, methods=["POST"]),
    Route("/sre", sre),
]
