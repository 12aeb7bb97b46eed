"""The composition root: settings -> gateway client, sessions, templates -> the Starlette app."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from console.config import ConsoleSettings
from console.formatting import FILTERS
from console.gateway import ApiError, Gateway
from console.relay import Relays
from console.security import SecurityHeaders
from console.session import Sessions
from console.views import (
    customer,
    customer_actions,
    dispute,
    inbox,
    operations,
    reports,
    signin,
    worklist,
    writeoffs,
)
from console.web import Console, render

HERE = Path(__file__).parent


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def not_found(request: Request, exc: Exception) -> Response:
    console: Console = request.app.state.console
    error = ApiError(404, "NOT_FOUND", "There is no such page.")
    return render(request, console, console.sessions.read(request), "error.html", 404, error=error)


async def server_error(request: Request, exc: Exception) -> Response:
    console: Console = request.app.state.console
    error = ApiError(500, "INTERNAL", "Something went wrong in the console; try again.")
    return render(request, console, console.sessions.read(request), "error.html", 500, error=error)


def assemble(settings: ConsoleSettings, gateway: Gateway | None = None) -> Starlette:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(FILTERS)
    console = Console(
        settings=settings,
        gateway=gateway or Gateway(settings.gateway_url),
        sessions=Sessions(
            settings.session_secret, not settings.development, settings.session_hours * 3600
        ),
        templates=templates,
        relays=Relays(),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        await console.gateway.close()

    routes = [
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        *signin.routes,
        *worklist.routes,
        *customer_actions.routes,
        *customer.routes,
        *dispute.routes,
        *inbox.routes,
        *operations.routes,
        *reports.routes,
        *writeoffs.routes,
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders, hsts=not settings.development)],
        exception_handlers={404: not_found, 500: server_error},
        lifespan=lifespan,
    )
    app.state.console = console
    return app
