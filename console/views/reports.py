"""Reports (team lead): run a service's report on screen, download it as CSV or XLSX. The
figures and their definitions are the services' (docs/reports.md); the console only shows them."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from console.gateway import ApiError
from console.web import Ctx, screen

# What each service offers (docs/reports.md); the API has no list of reports yet.
REPORTS = {
    "accounts": ("aging-by-customer", "aging-by-collector", "dso", "cei", "ar-over-90"),
    "disputes": (
        "open-disputes",
        "created-vs-resolved",
        "cycle-time",
        "sla-compliance",
        "root-cause-pareto",
    ),
    "escalation": ("ola-compliance", "by-reason-and-outcome"),
}
PARAMETERS = ("periodStart", "periodEnd", "annualRate")
FORMATS = {"csv": "REPORT_FORMAT_CSV", "xlsx": "REPORT_FORMAT_XLSX"}
FIELD_ALIASES = {
    "period_start": "periodStart",
    "period_end": "periodEnd",
    "annual_rate": "annualRate",
}


def chosen(ctx: Ctx) -> tuple[str, str, dict[str, str]]:
    query = ctx.request.query_params
    service, _, report = query.get("which", "").partition("/")
    if report not in REPORTS.get(service, ()):
        return "", "", {}
    return service, report, {p: query.get(p, "") for p in PARAMETERS if query.get(p)}


@screen
async def reports(ctx: Ctx) -> Response:
    service, report, params = chosen(ctx)
    result, error, errors = None, None, {}
    if report:
        try:
            result = await ctx.get(f"/v1/reports/{service}/{report}:run", **params)
        except ApiError as refused:
            if refused.status >= 500 or refused.signed_out:
                raise
            error = refused
            errors = {FIELD_ALIASES.get(k, k): v for k, v in refused.fields.items()}
    return ctx.render(
        "reports.html",
        400 if error else 200,
        reports=REPORTS,
        service=service,
        report=report,
        params=params,
        result=result,
        error=error,
        errors=errors,
        export_query=urlencode({"which": f"{service}/{report}", **params}),
    )


@screen
async def export(ctx: Ctx) -> Response:
    service, report, params = chosen(ctx)
    file_format = FORMATS.get(ctx.request.query_params.get("format", ""))
    if not report or file_format is None:
        return ctx.render("error.html", 404, error=ApiError(404, "NOT_FOUND", "No such report."))
    reply = await ctx.download(
        f"/v1/reports/{service}/{report}:export", format=file_format, **params
    )
    extension = ctx.request.query_params["format"]
    return Response(
        reply.content,
        media_type=reply.headers.get("content-type", "application/octet-stream"),
        headers={
            "content-disposition": reply.headers.get(
                "content-disposition", f'attachment; filename="{report}.{extension}"'
            )
        },
    )


routes = [Route("/reports", reports), Route("/reports/export", export)]
