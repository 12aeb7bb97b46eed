"""Screen 3, Dispute case: items and the amount waterfall, status actions carrying the etag the
page was drawn with (a stale one offers a reload), clocks, notes, history and trace ids."""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.routing import Route

from console.gateway import ApiError
from console.views.customer_actions import TEAMS
from console.web import Ctx, field_errors, screen

OUTCOMES = (
    "CREDITED",
    "REBILLED",
    "CUSTOMER_PAYS",
    "PARTIAL",
    "WRITTEN_OFF",
    "WITHDRAWN",
    "DUPLICATE",
)
PAUSE_REASONS = ("PENDING_CUSTOMER", "PENDING_THIRD_PARTY")
DISPUTE_ESCALATION_REASONS = (
    "PRICING_AUTHORITY",
    "BILLING_CORRECTION",
    "MASTER_DATA_FIX",
    "CREDIT_MEMO_APPROVAL",
    "LITIGATION_THREAT",
)
# action -> the form fields it sends (besides etag), as API field names
ACTIONS: dict[str, dict[str, str]] = {
    "assign": {"assignee": "assignee", "comment": "comment"},
    "start": {"comment": "comment"},
    "pause": {"reason": "reason", "comment": "comment"},
    "resume": {"comment": "comment"},
    "escalate": {"team": "team", "reasonCode": "reason", "summary": "summary"},
    "resolve": {"rootCauseCode": "root_cause", "outcome": "outcome", "comment": "comment"},
    "close": {"comment": "comment"},
    "withdraw": {"comment": "comment"},
    "reopen": {"comment": "comment"},
}
FIELD_ALIASES = {
    "assignee": "assignee",
    "reason": "reason",
    "team": "team",
    "reason_code": "reason",
    "root_cause_code": "root_cause",
    "rootCauseCode": "root_cause",
    "outcome": "outcome",
    "comment": "comment",
    "note.text": "note",
}
NOTICES = {"opened": "Dispute opened.", "done": "Saved.", "noted": "Note added."}


def dispute_name(ctx: Ctx) -> str:
    return f"disputes/{ctx.request.path_params['id']}"


async def _page(ctx: Ctx, status: int = 200, **extra: object) -> Response:
    name = dispute_name(ctx)
    case, history, trace, causes = await asyncio.gather(
        ctx.get(f"/v1/{name}"),
        ctx.get(f"/v1/{name}/history", pageSize=200),
        _trace(ctx, name),
        ctx.get("/v1/rootCauses"),
    )
    return ctx.render(
        "dispute.html",
        status,
        case=case,
        reload=f"/{name}",
        history=history.get("entries", []),
        trace=trace,
        trace_url=ctx.console.settings.trace_url,
        root_causes=causes.get("rootCauses", []),
        outcomes=OUTCOMES,
        pause_reasons=PAUSE_REASONS,
        teams=TEAMS,
        escalation_reasons=DISPUTE_ESCALATION_REASONS,
        notice=NOTICES.get(ctx.request.query_params.get("notice", "")),
        values=ctx.form or {},
        **extra,
    )


async def _trace(ctx: Ctx, name: str) -> dict | None:
    """The case's trace ids, for the roles allowed to see them (SRE, case workers)."""
    try:
        return await ctx.get(f"/v1/{name}/trace")
    except ApiError as error:
        if error.status in (403, 404):
            return None
        raise


@screen
async def dispute(ctx: Ctx) -> Response:
    return await _page(ctx)


@screen
async def act(ctx: Ctx) -> Response:
    action = ctx.request.path_params["action"]
    if action not in ACTIONS:
        return ctx.render("error.html", 404, error=ApiError(404, "NOT_FOUND", "No such action."))
    body = {"etag": ctx.field("etag")}
    for api_field, form_field in ACTIONS[action].items():
        if ctx.field(form_field):
            body[api_field] = ctx.field(form_field)
    return await _send(ctx, f"/v1/{dispute_name(ctx)}:{action}", body, action)


@screen
async def add_note(ctx: Ctx) -> Response:
    body = {"text": ctx.field("note")}
    return await _send(ctx, f"/v1/{dispute_name(ctx)}/notes", body, "note", notice="noted")


async def _send(ctx: Ctx, path: str, body: dict, action: str, notice: str = "done") -> Response:
    try:
        await ctx.post(path, body)
    except ApiError as error:
        if error.status >= 500 or error.signed_out:
            raise
        return await _page(
            ctx, error.status, error=error, failed=action, errors=field_errors(error, FIELD_ALIASES)
        )
    return ctx.redirect(f"/{dispute_name(ctx)}?notice={notice}")


routes = [
    Route("/disputes/{id:str}", dispute, methods=["GET"]),
    Route("/disputes/{id:str}/notes", add_note, methods=["POST"]),
    Route("/disputes/{id:str}/{action:str}", act, methods=["POST"]),
]
