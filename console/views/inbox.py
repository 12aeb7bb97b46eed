"""Screen 4, Team inbox: the queue of escalations for Sales, GBS, Legal and team leads (the
service scopes a team member to their own team), and each escalation's actions with its etag."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from console.gateway import ApiError
from console.relay import open_relay
from console.web import Console, Ctx, field_errors, screen

STATES = ("OPEN", "CLAIMED", "INFO_REQUESTED", "RESPONDED", "RESOLVED", "HANDED_BACK")
ACTIONS: dict[str, dict[str, str]] = {
    "claim": {},
    "requestInfo": {"question": "question"},
    "provideInfo": {"answer": "answer"},
    "respond": {"outcomeCode": "outcome", "note": "note"},
    "handBack": {"outcomeCode": "outcome", "note": "note"},
    "resolve": {"outcomeCode": "outcome", "note": "note"},
}
RESPONSE_OUTCOMES = (
    "PRICE_CONFIRMED",
    "CREDIT_APPROVED",
    "BILLING_CORRECTED",
    "MASTER_DATA_FIXED",
    "CLAIM_FILED",
    "NOT_OUR_AREA",
    "NO_ACTION_NEEDED",
)
FIELD_ALIASES = {
    "question": "question",
    "answer": "answer",
    "outcome_code": "outcome",
    "outcomeCode": "outcome",
    "note": "note",
}
NOTICES = {"done": "Saved."}


def queue_filter(ctx: Ctx) -> str:
    state = ctx.request.query_params.get("state", "")
    terms = [f"state={state}"] if state in STATES else []
    team = ctx.session.team or ctx.request.query_params.get("team", "")
    if team:
        terms.append(f"team={team}")
    return " AND ".join(terms)


@screen
async def inbox(ctx: Ctx) -> Response:
    reply = await ctx.get(
        "/v1/escalations", filter=queue_filter(ctx), orderBy="create_time desc", pageSize=100
    )
    return ctx.render(
        "inbox.html",
        escalations=reply.get("escalations", []),
        watch_cursor=reply.get("watchCursor", ""),
        states=STATES,
        state=ctx.request.query_params.get("state", ""),
        fragment=ctx.request.headers.get("hx-request") == "true"
        and ctx.request.headers.get("hx-target") == "queue",
    )


async def live(request: Request) -> Response:
    """The queue's changes as Server-Sent Events (the gateway's watch, relayed with the session's
    token). No stream without a session (204: an EventSource stops asking); a refusal keeps its
    status, so the page says live updates stopped."""
    console: Console = request.app.state.console
    session = console.sessions.read(request)
    if session is None or not session.signed_in:
        return Response(status_code=204)
    try:
        events = await open_relay(
            console.gateway,
            console.relays,
            session,
            request.query_params.get("cursor", ""),
            request.headers.get("last-event-id", ""),
        )
    except ApiError as error:
        return Response(status_code=204 if error.signed_out else error.status)
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
    )


def escalation_name(ctx: Ctx) -> str:
    return f"escalations/{ctx.request.path_params['id']}"


async def _page(ctx: Ctx, status: int = 200, **extra: object) -> Response:
    name = escalation_name(ctx)
    escalation, history = await asyncio.gather(
        ctx.get(f"/v1/{name}"), ctx.get(f"/v1/{name}/history", pageSize=200)
    )
    return ctx.render(
        "escalation.html",
        status,
        escalation=escalation,
        reload=f"/{name}",
        history=history.get("entries", []),
        outcomes=RESPONSE_OUTCOMES,
        notice=NOTICES.get(ctx.request.query_params.get("notice", "")),
        values=ctx.form or {},
        **extra,
    )


@screen
async def escalation(ctx: Ctx) -> Response:
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
    try:
        await ctx.post(f"/v1/{escalation_name(ctx)}:{action}", body)
    except ApiError as error:
        if error.status >= 500 or error.signed_out:
            raise
        return await _page(
            ctx, error.status, error=error, failed=action, errors=field_errors(error, FIELD_ALIASES)
        )
    return ctx.redirect(f"/{escalation_name(ctx)}?notice=done")


routes = [
    Route("/inbox", inbox),
    Route("/inbox/events", live),
    Route("/escalations/{id:str}", escalation, methods=["GET"]),
    Route("/escalations/{id:str}/{action:str}", act, methods=["POST"]),
]
