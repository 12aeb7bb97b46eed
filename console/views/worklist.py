"""Screen 1, My worklist: the collector's customers ranked by the service's explainable score."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from console.web import Ctx, screen

PAGE_SIZE = 100
NOTICES = {
    "logged": "Call logged.",
    "promised": "Promise recorded.",
}


@screen
async def worklist(ctx: Ctx) -> Response:
    reply = await ctx.get("/v1/worklist", pageSize=PAGE_SIZE)
    return ctx.render(
        "worklist.html",
        reply=reply,
        items=reply.get("items", []),
        notice=NOTICES.get(ctx.request.query_params.get("notice", "")),
    )


routes = [Route("/worklist", worklist)]
