"""What every screen shares: the session check, CSRF on every form, rendering, and turning the
gateway's refusals into pages people read (never a stack trace)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from console.config import ConsoleSettings
from console.gateway import ApiError, Gateway
from console.relay import Relays
from console.session import Session, Sessions, csrf_ok


@dataclass(frozen=True)
class Console:
    """The parts every handler needs, built once by the composition root (console/app.py)."""

    settings: ConsoleSettings
    gateway: Gateway
    sessions: Sessions
    templates: Jinja2Templates
    relays: Relays


@dataclass
class Ctx:
    request: Request
    console: Console
    session: Session
    form: FormData | None

    @property
    def token(self) -> str:
        return self.session.token

    async def get(self, path: str, **params: Any) -> dict:
        return await self.console.gateway.get(self.token, path, **params)

    async def post(self, path: str, body: dict, query: dict | None = None) -> dict:
        return await self.console.gateway.post(self.token, path, body, query)

    async def download(self, path: str, **params: Any) -> httpx.Response:
        return await self.console.gateway.download(self.token, path, **params)

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else default

    def fields(self, name: str) -> list[str]:
        if self.form is None:
            return []
        return [v for v in self.form.getlist(name) if isinstance(v, str) and v]

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        return render(self.request, self.console, self.session, template, status, **context)

    def redirect(self, url: str) -> Response:
        return RedirectResponse(url, status_code=303)


Handler = Callable[[Ctx], Awaitable[Response]]


def render(
    request: Request,
    console: Console,
    session: Session | None,
    template: str,
    status: int = 200,
    **context: Any,
) -> Response:
    context.setdefault("errors", {})
    context.setdefault("error", None)
    return console.templates.TemplateResponse(
        request,
        template,
        {"session": session, "development": console.settings.development, **context},
        status_code=status,
    )


def screen(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A signed-in screen: unsigned visitors go to the sign-in page, a POST must carry the
    session's CSRF token, and a refusal the handler did not handle becomes a readable page."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        console: Console = request.app.state.console
        session = console.sessions.read(request)
        if session is None or not session.signed_in:
            return RedirectResponse(f"/signin?next={quote(request.url.path)}", status_code=303)
        form = None
        if request.method == "POST":
            form = await request.form()
            if not csrf_ok(session, form.get("csrf")):
                return render(request, console, session, "error.html", 403, error=CSRF_REFUSED)
        try:
            return await handler(Ctx(request, console, session, form))
        except ApiError as error:
            if error.signed_out:
                response = RedirectResponse("/signin?expired=1", status_code=303)
                console.sessions.clear(response)
                return response
            return render(request, console, session, "error.html", error.status, error=error)

    return endpoint


CSRF_REFUSED = ApiError(
    403, "PERMISSION_DENIED", "This form has expired. Reload the page and send it again."
)


def field_errors(error: ApiError, aliases: dict[str, str]) -> dict[str, str]:
    """Field violations keyed by the form's field names (`aliases`: API path prefix -> field)."""
    shown: dict[str, str] = {}
    for path, description in error.fields.items():
        for prefix, name in aliases.items():
            if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
                shown.setdefault(name, description)
                break
        else:
            shown.setdefault("_form", f"{path}: {description}")
    return shown
