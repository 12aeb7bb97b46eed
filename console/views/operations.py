"""Screens 5 and 6. Team lead: a collector's or the team's worklist and reassignment. SRE: SLA
compliance over the last weeks (the disputes service's report), the cases breached or warned now
(each linking to its clock history and traces), and each service's outbox: pending and parked
events, a parked one retried or discarded."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

from starlette.responses import Response
from starlette.routing import Route

from console.gateway import ApiError
from console.web import Ctx, field_errors, screen

SERVICES = ("accounts", "disputes", "escalation")
COMPLIANCE_WEEKS = 4
OUTBOX_NOTICES = {
    "retry": "The event is queued for delivery again.",
    "discard": "The event is discarded: kept, never sent.",
}
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


def weeks_back(today: date, count: int) -> list[tuple[date, date]]:
    """The last `count` weeks (Monday to Sunday), oldest first; this one up to today."""
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=n) for n in range(count - 1, -1, -1)]
    return [(monday, min(monday + timedelta(days=6), today)) for monday in mondays]


async def _compliance(ctx: Ctx, start: date, end: date) -> dict:
    """One week of the disputes service's SLA compliance report (met and breached per clock)."""
    try:
        result = await ctx.get(
            "/v1/reports/disputes/sla-compliance:run",
            periodStart=start.isoformat(),
            periodEnd=end.isoformat(),
        )
    except ApiError as error:
        if error.signed_out or error.status >= 500:
            raise
        return {"start": start, "error": error.message}
    tables = result.get("tables", [])
    return {"start": start, "end": end, "table": tables[0] if tables else None}


@screen
async def sre(ctx: Ctx) -> Response:
    weeks = weeks_back(datetime.now(UTC).date(), COMPLIANCE_WEEKS)
    breached, warned, *rest = await asyncio.gather(
        ctx.get("/v1/disputes", filter="sla_state=BREACHED", orderBy="due_time", pageSize=100),
        ctx.get("/v1/disputes", filter="sla_state=WARNED", orderBy="due_time", pageSize=100),
        *(_compliance(ctx, start, end) for start, end in weeks),
        *(_outbox(ctx, service) for service in SERVICES),
    )
    compliance, outboxes = rest[: len(weeks)], rest[len(weeks) :]
    columns = next((w["table"]["columns"] for w in compliance if w.get("table")), [])
    return ctx.render(
        "sre.html",
        breached=breached.get("disputes", []),
        warned=warned.get("disputes", []),
        compliance=compliance,
        compliance_columns=columns,
        outboxes=outboxes,
        request_id=str(uuid.uuid4()),
        notice=OUTBOX_NOTICES.get(ctx.request.query_params.get("notice", "")),
    )


@screen
async def outbox_action(ctx: Ctx) -> Response:
    """Retry or discard one parked event; the service refuses any other state, and a discard
    without a reason (field violations shown on the screen's error banner)."""
    service, event, action = (ctx.request.path_params[k] for k in ("service", "event", "action"))
    if service not in SERVICES or action not in OUTBOX_NOTICES:
        return ctx.render("error.html", 404, error=ApiError(404, "NOT_FOUND", "No such action."))
    body = {"requestId": ctx.field("request_id")}
    if ctx.field("reason"):
        body["reason"] = ctx.field("reason")
    await ctx.post(f"/v1/outboxes/{service}/events/{event}:{action}", body)
    return ctx.redirect(f"/sre?notice={action}")


routes = [
    Route("/team", team, methods=["GET"]),
    Route("/team/reassign", reassign, methods=["POST"]),
    Route("/sre", sre),
    Route(
        "/sre/outboxes/{service:str}/events/{event:str}/{action:str}",
        outbox_action,
        methods=["POST"],
    ),
]
