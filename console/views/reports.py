"""Reports (team lead): run a service's report on screen, download it as CSV or XLSX. The
figures and their definitions are the services' (docs/reports.md); the console only shows them."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from console import formatting
from console.gateway import ApiError
from console.web import Ctx, field_errors, screen

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
# A schedule (common/v1/reports.proto ReportSchedule); the API creates them but cannot list them.
SCHEDULE_PERIODS = ("yesterday", "last_week", "last_month", "month_to_date")
SCHEDULE_FREQUENCIES = ("daily", "weekdays", "weekly", "monthly")
SCHEDULE_FIELDS = {
    f"report_schedule.{name}": name
    for name in (
        "report",
        "period",
        "frequency",
        "at",
        "time_zone",
        "weekday",
        "month_day",
        "format",
        "recipients",
        "annual_rate",
    )
}


def chosen(ctx: Ctx) -> tuple[str, str, dict[str, str]]:
    query = ctx.request.query_params
    service, _, report = query.get("which", "").partition("/")
    if report not in REPORTS.get(service, ()):
        return "", "", {}
    return service, report, {p: query.get(p, "") for p in PARAMETERS if query.get(p)}


@screen
async def reports(ctx: Ctx) -> Response:
    return await _page(ctx, *chosen(ctx))


async def _page(
    ctx: Ctx,
    service: str,
    report: str,
    params: dict[str, str],
    error: ApiError | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    """The chosen report run on screen; `error`: a refused schedule, shown instead of a run."""
    result, errors = None, errors or {}
    if report and error is None:
        try:
            result = await ctx.get(f"/v1/reports/{service}/{report}:run", **params)
        except ApiError as refused:
            if refused.status >= 500 or refused.signed_out:
                raise
            error = refused
            errors = {FIELD_ALIASES.get(k, k): v for k, v in refused.fields.items()}
    query = ctx.request.query_params
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
        periods=SCHEDULE_PERIODS,
        frequencies=SCHEDULE_FREQUENCIES,
        formats=FORMATS,
        values=ctx.form or {},
        notice=(
            f"Scheduled ({query['scheduled']}); first run {query.get('next', '')}."
            if query.get("scheduled")
            else None
        ),
    )


@screen
async def schedule(ctx: Ctx) -> Response:
    """Creates a schedule for the chosen report; the service checks at once that its parameters
    make a valid run, and runs it as this user."""
    service, _, report = ctx.field("which").partition("/")
    if report not in REPORTS.get(service, ()):
        return ctx.render("error.html", 404, error=ApiError(404, "NOT_FOUND", "No such report."))
    body: dict[str, object] = {
        "report": report,
        "period": ctx.field("period"),
        "frequency": ctx.field("frequency"),
        "at": ctx.field("at"),
        "timeZone": ctx.field("time_zone"),
        "format": FORMATS.get(ctx.field("format"), ""),
        "recipients": [r.strip() for r in ctx.field("recipients").split(",") if r.strip()],
        "sendOnlyIfData": ctx.field("send_only_if_data") == "on",
    }
    if ctx.field("weekday"):
        body["weekday"] = ctx.field("weekday")
    if ctx.field("month_day"):
        body["monthDay"] = ctx.field("month_day")
    if ctx.field("annual_rate"):
        body["annualRate"] = ctx.field("annual_rate")
    try:
        created = await ctx.post(f"/v1/reports/{service}/schedules", body)
    except ApiError as error:
        if error.status >= 500 or error.signed_out:
            raise
        return await _page(
            ctx, service, report, {}, error=error, errors=field_errors(error, SCHEDULE_FIELDS)
        )
    next_run = formatting.when(created.get("nextRunTime"))
    query = urlencode(
        {"which": f"{service}/{report}", "scheduled": created["name"], "next": next_run}
    )
    return ctx.redirect(f"/reports?{query}")


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


routes = [
    Route("/reports", reports),
    Route("/reports/export", export),
    Route("/reports/schedules", schedule, methods=["POST"]),
]
