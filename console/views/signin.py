"""Sign-in and sign-out. Development: pick a role and a name, get a development token.
Elsewhere: paste a token from the identity provider; the gateway checks it before it is kept."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.devtokens import DevTokenRefused, mint_dev_token
from console.gateway import ApiError
from console.session import csrf_ok
from console.web import Console, render

# Who the picker offers, and the team that goes with a receiving team's role.
ROLES = [
    ("collector", "Collector", ""),
    ("specialist", "Dispute specialist", ""),
    ("team_lead", "Team lead", ""),
    ("sales", "Sales", "SALES"),
    ("gbs", "GBS (billing, master data, cash application)", "GBS"),
    ("legal", "Legal", "LEGAL"),
    ("sre", "SRE", ""),
    ("finance_manager", "Finance manager (approves write-offs)", ""),
]
HOME = {"sales": "/inbox", "gbs": "/inbox", "legal": "/inbox", "sre": "/sre"}
# A read that every role may make: proves a pasted token before the console keeps it.
PROBE = "/v1/outcomeCodes"


def home_of(roles: list[str]) -> str:
    for role in roles:
        if role in ("collector", "specialist", "team_lead"):
            return "/worklist"
    return next((HOME[r] for r in roles if r in HOME), "/worklist")


async def signin_page(request: Request) -> Response:
    console: Console = request.app.state.console
    session = console.sessions.read(request)
    if session is not None and session.signed_in:
        return RedirectResponse(home_of(session.roles), status_code=303)
    session = session or console.sessions.anonymous()
    expired = (
        "Your session has ended; sign in again." if request.query_params.get("expired") else None
    )
    response = render(request, console, session, "signin.html", roles=ROLES, notice=expired)
    console.sessions.write(response, session)
    return response


async def signin(request: Request) -> Response:
    console: Console = request.app.state.console
    session = console.sessions.read(request)
    form = await request.form()
    if not csrf_ok(session, form.get("csrf")):
        fresh = console.sessions.anonymous()
        response = render(
            request,
            console,
            fresh,
            "signin.html",
            403,
            roles=ROLES,
            error=ApiError(403, "PERMISSION_DENIED", "The form expired; sign in again."),
        )
        console.sessions.write(response, fresh)
        return response
    errors: dict[str, str] = {}
    token = ""
    if console.settings.development and form.get("mode") != "token":
        role = str(form.get("role", ""))
        team = next((t for r, _, t in ROLES if r == role), None)
        if team is None:
            errors["role"] = "Choose a role."
        else:
            try:
                subject = str(form.get("subject", "")).strip() or f"dev-{role.replace('_', '-')}"
                token = await mint_dev_token(role, subject, team)
            except DevTokenRefused as refused:
                errors["subject"] = str(refused)
    else:
        token = str(form.get("token", "")).strip()
        if not token:
            errors["token"] = "Paste your access token."
        else:
            try:
                await console.gateway.get(token, PROBE)
            except ApiError as refused:
                errors["token"] = refused.message
    if errors:
        return render(request, console, session, "signin.html", 400, roles=ROLES, errors=errors)
    try:
        signed = console.sessions.signed_in(token)
    except ValueError:
        errors["token"] = "That is not a token."
        return render(request, console, session, "signin.html", 400, roles=ROLES, errors=errors)
    next_path = str(form.get("next", ""))
    target = next_path if next_path.startswith("/") and not next_path.startswith("//") else ""
    response = RedirectResponse(target or home_of(signed.roles), status_code=303)
    console.sessions.write(response, signed)
    return response


async def signout(request: Request) -> Response:
    console: Console = request.app.state.console
    session = console.sessions.read(request)
    form = await request.form()
    response = RedirectResponse("/signin", status_code=303)
    if csrf_ok(session, form.get("csrf")):
        console.sessions.clear(response)
    return response


async def home(request: Request) -> Response:
    console: Console = request.app.state.console
    session = console.sessions.read(request)
    if session is None or not session.signed_in:
        return RedirectResponse("/signin", status_code=303)
    return RedirectResponse(home_of(session.roles), status_code=303)


routes = [
    Route("/", home),
    Route("/signin", signin_page, methods=["GET"]),
    Route("/signin", signin, methods=["POST"]),
    Route("/signout", signout, methods=["POST"]),
]
