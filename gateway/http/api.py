"""The one endpoint behind every API route: match the route, admit the caller, transcode, call
the backend, answer. Streaming methods continue in gateway/http/streams.py."""

from __future__ import annotations

import grpc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from common.errors import DomainError, InvalidArgument
from common.rpc.replay import replay_markers
from gateway import transcode
from gateway.backends import Backends
from gateway.calls import Gate, calling_as
from gateway.http import body, streams
from gateway.http.responses import error_response
from gateway.limits import Exhausted
from gateway.routing import RouteTable
from gateway.settings import GatewaySettings


def raw_path(request: Request) -> str:
    """The path as sent (still %-encoded), so an encoded '/' cannot add a path segment."""
    try:
        return request.scope.get("raw_path", b"").decode("ascii") or request.url.path
    except UnicodeDecodeError:
        raise InvalidArgument.of("path", "must be ASCII (percent-encode the rest)") from None


class Api:
    def __init__(
        self, routes: RouteTable, gate: Gate, backends: Backends, settings: GatewaySettings
    ):
        self.routes = routes
        self.gate = gate
        self.backends = backends
        self.settings = settings

    async def handle(self, request: Request) -> Response:
        route = None
        try:
            route, bindings = self.routes.match(request.method, raw_path(request))
            request.state.route = route.template.text
            actor = self.gate.admit(
                route.rpc,
                request.headers.get("authorization"),
                request.headers.get("x-api-key"),
                request.client.host if request.client else "",
            )
            with self.gate.in_flight(route.rpc, actor):
                return await self._forward(request, route, bindings, actor)
        except Exhausted as error:
            await error.hold_back()
            return error_response(request, error)
        except (DomainError, grpc.aio.AioRpcError) as error:
            return error_response(request, error, route.rpc.backend if route else "")

    async def _forward(self, request: Request, route, bindings: dict, actor) -> Response:
        if route.rpc.client_streaming:
            return await streams.upload(request, route, bindings, actor, self)
        payload = transcode.decode_json(await body.read_json(request, self.settings.max_body_bytes))
        message = transcode.build_message(
            route.rpc.request_class,
            route.body,
            payload,
            bindings,
            request.query_params.multi_items(),
        )
        if route.rpc.server_streaming:
            if streams.answers_file(route.rpc):
                return await streams.download(request, route, message, actor, self)
            return await streams.events(request, route, message, actor, self)
        with calling_as(actor, request.state.request_id):
            call = self.backends.call(route.rpc)(
                message.SerializeToString(), timeout=self.gate.timeout_for(route.rpc)
            )
            raw = await call
        if streams.answers_file(route.rpc):
            return streams.file_response(raw)
        return JSONResponse(
            transcode.to_json(route.rpc.response_class.FromString(raw)),
            headers=_replay_headers(await call.trailing_metadata()),
        )


def _replay_headers(trailers) -> dict[str, str]:
    """A backend's replay trailers as headers: `settle-replayed` -> `Settle-Replayed`."""
    return {key.title(): value for key, value in replay_markers(trailers)}
