"""The <Service>OutboxService every Settle service serves for its own outbox
(protos/settle/<service>/v1/outbox.proto, messages in settle/common/v1/outbox.proto): protobuf in
-> validated request -> OutboxAdmin or OutboxReads -> protobuf out. Built and registered by each
composition root:

    outbox_api = OutboxAdminApi.build(settings, db, OutboxEventRow, OutboxActionRow, clock, relay)
    ... register=outbox_api.beside(<the service's own register>) ...

Who may call it is the gateway's decision (gateway/access.py: sre and admin)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import timedelta

import grpc
from google.protobuf.duration_pb2 import Duration

from common.actor import current_actor
from common.clock import Clock
from common.db import Database
from common.errors import InvalidArgument, Violations
from common.ids import parse_name
from common.listing import PageTokens, Term, parse_filter, query_key
from common.outbox import OutboxRelay
from common.outbox_admin import Action, OutboxAdmin
from common.outbox_reads import (
    ACTION_KINDS,
    DISCARD,
    EVENT_STATES,
    PENDING,
    RETRY,
    ActionRecord,
    EventRecord,
    OutboxReads,
)
from common.protoconv import timestamp
from common.settings import Settings
from common.validation import text
from settle.common.v1 import outbox_pb2 as pb


def _one_of(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def convert(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return convert


EVENT_FILTERS: dict[str, Callable[[str], str]] = {
    "state": _one_of(EVENT_STATES),
    "destination": str,
    "method": str,
}
ACTION_FILTERS: dict[str, Callable[[str], str]] = {
    "event": str,
    "kind": _one_of(ACTION_KINDS),
    "actor": str,
}


class OutboxAdminApi:
    def __init__(self, service: str, admin: OutboxAdmin, reads: OutboxReads, db: Database,
                 clock: Clock, pages: PageTokens):  # fmt: skip
        self.service, self.admin, self.reads, self.db = service, admin, reads, db
        self.clock, self.pages = clock, pages
        self.events_collection = f"outboxes/{service}/events"
        self.actions_collection = f"outboxes/{service}/actions"

    @classmethod
    def build(cls, settings: Settings, db: Database, event_model, action_model, clock: Clock,
              relay: OutboxRelay) -> OutboxAdminApi:  # fmt: skip
        """For `settings.service`, over its outbox tables, waking its relay on a retry."""
        admin = OutboxAdmin(db, event_model, action_model, clock, relay.notify)
        reads = OutboxReads(event_model, action_model)
        pages = PageTokens(settings.internal_secret, settings.service)
        return cls(settings.service, admin, reads, db, clock, pages)

    @property
    def service_name(self) -> str:
        """ "settle.disputes.v1.DisputesOutboxService": a name of its own per service, so each
        has its own gRPC paths, HTTP routes and OpenAPI operations at the gateway."""
        return f"settle.{self.service}.v1.{self._short_name}"

    @property
    def _short_name(self) -> str:
        return f"{self.service.capitalize()}OutboxService"

    def register(self, server: grpc.aio.Server) -> None:
        grpc_module = importlib.import_module(f"settle.{self.service}.v1.outbox_pb2_grpc")
        getattr(grpc_module, f"add_{self._short_name}Servicer_to_server")(self, server)

    def beside(self, register: Callable[[grpc.aio.Server], None]):
        """The service's own `register`, then this servicer: for ServiceProcess.register."""

        def both(server: grpc.aio.Server) -> None:
            register(server)
            self.register(server)

        return both

    async def ListOutboxEvents(self, request, context):
        given = _equalities(parse_filter(request.filter, EVENT_FILTERS))
        key = query_key(self.service, "events", request.filter)
        page = self.pages.page(request.page_size, request.page_token, key)
        async with self.db.reading_connection() as conn:
            rows = await self.reads.events(conn, page, **given)
        return pb.ListOutboxEventsResponse(
            events=[self._event(r) for r in rows],
            next_page_token=self.pages.next_token(page, len(rows), key),
        )

    async def RetryOutboxEvent(self, request, context):
        return self._event(await self.admin.retry(self._action(RETRY, request, required=False)))

    async def DiscardOutboxEvent(self, request, context):
        return self._event(await self.admin.discard(self._action(DISCARD, request, required=True)))

    async def ListOutboxActions(self, request, context):
        given = _equalities(parse_filter(request.filter, ACTION_FILTERS))
        if "event" in given:
            given["event_id"] = parse_name(given.pop("event"), self.events_collection, "filter")
        key = query_key(self.service, "actions", request.filter)
        page = self.pages.page(request.page_size, request.page_token, key)
        async with self.db.reading_connection() as conn:
            rows = await self.reads.actions(conn, page, **given)
        return pb.ListOutboxActionsResponse(
            actions=[self._action_pb(r) for r in rows],
            next_page_token=self.pages.next_token(page, len(rows), key),
        )

    def _action(self, kind: str, request, *, required: bool) -> Action:
        event_id = parse_name(request.name, self.events_collection)
        v = Violations()
        reason = text(request.reason, "reason", v, required=required)
        request_id = text(request.request_id, "request_id", v)
        v.raise_if_any()
        return Action(kind, event_id, current_actor(), reason, request_id)

    def _event(self, r: EventRecord) -> pb.OutboxEvent:
        state = r.state
        age = Duration()
        age.FromTimedelta(max(timedelta(0), self.clock.now() - r.created_at))
        return pb.OutboxEvent(
            name=f"{self.events_collection}/{r.id}",
            destination=r.destination,
            method=r.method,
            subject=r.subject,
            state=pb.OutboxEvent.State.Value(state),
            attempts=r.attempts,
            last_error=r.last_error or "",
            create_time=timestamp(r.created_at),
            age=age,
            next_attempt_time=timestamp(r.available_at) if state == PENDING else None,
            deliver_time=timestamp(r.delivered_at),
            park_time=timestamp(r.dead_at),
            discard_time=timestamp(r.discarded_at),
        )

    def _action_pb(self, r: ActionRecord) -> pb.OutboxAction:
        return pb.OutboxAction(
            name=f"{self.actions_collection}/{r.id}",
            event=f"{self.events_collection}/{r.event_id}",
            kind=pb.OutboxAction.Kind.Value(r.kind),
            actor=r.actor,
            reason=r.reason,
            create_time=timestamp(r.created_at),
            request_id=r.request_id or "",
        )


def _equalities(terms: list[Term]) -> dict[str, str]:
    """The filter's terms as field -> value: these lists filter by equality only."""
    given: dict[str, str] = {}
    for term in terms:
        if term.op != "=" or term.field in given:
            raise InvalidArgument.of("filter", f"{term.field}: only one '=' term per field")
        given[term.field] = term.value
    return given
