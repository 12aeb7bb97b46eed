"""Screen 1, My worklist: the collector's customers ranked by the service's explainable score,
each with its flags: credit hold and open disputes (the worklist's own), and the worst SLA state
of the customer's open cases (the disputes list's, one call per page)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass

from starlette.responses import Response
from starlette.routing import Route

from console.gateway import ApiError
from console.web import Ctx, screen

PAGE_SIZE = 100
NOTICES = {
    "logged": "Call logged.",
    "promised": "Promise recorded.",
}
# Open cases whose SLA is warned or breached. The list's filter joins terms with AND only (no OR,
# no customer list), so this reads every such case the caller may see, not only the page's
# customers: "neither on track nor paused, not ended" is "WARNED or BREACHED, still open".
SLA_FILTER = " AND ".join(
    [f"sla_state!={state}" for state in ("ON_TRACK", "PAUSED")]
    + [f"status!={status}" for status in ("RESOLVED", "CLOSED", "WITHDRAWN", "VOIDED")]
)
# At most this many such cases are read, most overdue first; past it the page says so.
SLA_CASES = 200
# Worst first; each state's flag label and tone.
SLA_STATES = {"BREACHED": ("SLA breached", "bad"), "WARNED": ("SLA warning", "warn")}


@dataclass(frozen=True)
class SlaFlag:
    label: str
    tone: str
    case: str  # "disputes/{id}": the worst state's most urgent case, the one the flag opens
    cases: int  # how many of the customer's open cases are warned or breached


def sla_flags(disputes: list[dict]) -> dict[str, SlaFlag]:
    """Per customer ("customers/{id}"), the flag of its worst case. `disputes` come ordered by
    due time, and `min` keeps the first of equals: the worst state's earliest-due case."""
    by_customer: dict[str, list[dict]] = defaultdict(list)
    for case in disputes:
        if case.get("slaState") in SLA_STATES:
            by_customer[case["customer"]].append(case)
    rank = list(SLA_STATES)
    flags = {}
    for customer, cases in by_customer.items():
        worst = min(cases, key=lambda case: rank.index(case["slaState"]))
        label, tone = SLA_STATES[worst["slaState"]]
        flags[customer] = SlaFlag(label, tone, worst["name"], len(cases))
    return flags


async def _flagged_cases(ctx: Ctx) -> dict:
    """The open warned or breached cases; a refusal leaves the worklist usable, saying why."""
    try:
        return await ctx.get(
            "/v1/disputes", filter=SLA_FILTER, orderBy="due_time", pageSize=SLA_CASES
        )
    except ApiError as error:
        if error.signed_out:
            raise
        if error.status >= 500:
            return {"error": f"the disputes service did not answer (request {error.request_id})"}
        return {"error": error.message}


@screen
async def worklist(ctx: Ctx) -> Response:
    reply, flagged = await asyncio.gather(
        ctx.get("/v1/worklist", pageSize=PAGE_SIZE), _flagged_cases(ctx)
    )
    return ctx.render(
        "worklist.html",
        reply=reply,
        items=reply.get("items", []),
        sla=sla_flags(flagged.get("disputes", [])),
        sla_error=flagged.get("error"),
        sla_truncated=bool(flagged.get("nextPageToken")),
        sla_cases=SLA_CASES,
        notice=NOTICES.get(ctx.request.query_params.get("notice", "")),
    )


routes = [Route("/worklist", worklist)]
