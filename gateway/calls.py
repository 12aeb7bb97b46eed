"""What both front doors (HTTP and gRPC) do before forwarding a call: authenticate, authorise,
choose the deadline, and make the caller's identity and request id the ones the backend sees."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

import structlog

from common import actor as actors
from common.actor import Actor
from common.errors import Unauthenticated
from common.ids import new_id
from gateway.auth.authenticator import Authenticator
from gateway.auth.policy import Policy
from gateway.catalog import Rpc
from gateway.limits import Limiter
from gateway.settings import GatewaySettings

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_from(value: str | None) -> str:
    """The client's request id when it is a sane token (it goes into logs and metadata)."""
    return value if value and _REQUEST_ID.match(value) else new_id()


class Gate:
    def __init__(
        self,
        authenticator: Authenticator,
        policy: Policy,
        settings: GatewaySettings,
        limiter: Limiter,
    ):
        self.authenticator = authenticator
        self.policy = policy
        self.settings = settings
        self.limiter = limiter

    def admit(self, rpc: Rpc, authorization: str | None, api_key: str | None, client: str) -> Actor:
        """The caller, authenticated, within its rate and authorised. `client`: its address,
        which pays for the requests that do not authenticate."""
        try:
            actor = self.authenticator.authenticate(authorization, api_key)
        except Unauthenticated:
            self.limiter.take(f"address:{client}")
            raise
        self.limiter.take(actor.subject)
        self.policy.authorize(actor, rpc)
        return actor

    def in_flight(self, rpc: Rpc, actor: Actor) -> AbstractContextManager[None]:
        """Holds one of the caller's concurrent-call slots; server streams (watches live for
        an hour) are bounded by the rate of their starts, not held as calls in flight."""
        if rpc.server_streaming:
            return nullcontext()
        return self.limiter.in_flight(actor.subject)

    def timeout_for(self, rpc: Rpc, requested: float | None = None) -> float:
        """The backend deadline: the caller's when it set a shorter one, else by kind of call."""
        s = self.settings
        limit = (
            s.upload_deadline_s
            if rpc.client_streaming
            else s.stream_deadline_s
            if rpc.server_streaming
            else s.deadline_s
        )
        return min(limit, requested) if requested is not None else limit


@contextmanager
def calling_as(actor: Actor, request_id: str) -> Iterator[None]:
    """Calls (and streams) started inside carry `actor` and `request_id` to the backend."""
    token = actors.set_actor(actor)
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        yield
    finally:
        actors.reset_actor(token)
