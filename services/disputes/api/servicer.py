"""gRPC methods of settle.disputes.v1 for cases: translate, call one use case, translate back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common import tracing, validation
from common.errors import InvalidArgument, Violations
from common.ids import parse_name
from common.listing import PageTokens, Term, parse_filter, parse_order_by, query_key
from common.protoconv import request_key
from common.rpc import batch
from services.disputes.api import convert
from services.disputes.api import requests as req
from services.disputes.api.servicer_admin import AdminMethods
from services.disputes.domain.status import Action
from services.disputes.service import (
    case_trace,
    casework,
    escalation_records,
    intake,
    resolution,
    workflow,
)
from services.disputes.service.context import DisputesContext
from settle.disputes.v1 import disputes_pb2 as pb
from settle.disputes.v1 import disputes_pb2_grpc

DISPUTE_FILTERS: dict[str, Callable[[str], Any]] = {
    "status": lambda s: req.enum_name(pb.Dispute.Status, s),
    "customer": lambda s: parse_name(s, "customers", "filter"),
    "invoice": lambda s: parse_name(s, "invoices", "filter"),
    "assignee": str,
    "reason": str,
    "root_cause": str,
    "priority": lambda s: req.enum_name(pb.Priority, s),
    "sla_state": lambda s: req.enum_name(pb.SlaState, s),
    "due_time": req.timestamp_filter,
    "due_before": req.timestamp_filter,
    "due_after": req.timestamp_filter,
    "create_time": req.timestamp_filter,
    "update_time": req.timestamp_filter,
}
WINDOW = {"due_before": "<", "due_after": ">="}  # due_before=X AND due_after=Y: a due-by window
ORDERABLE = {"create_time", "update_time", "due_time", "priority"}


def _window(term: Term) -> Term:
    if term.field not in WINDOW:
        return term
    if term.op != "=":
        raise InvalidArgument.of("filter", f"write {term.field}=<time>")
    return Term("due_time", WINDOW[term.field], term.value)


def _case(name: str, field: str = "name") -> str:
    """The case id of a request; every log line of the request and its span carry it."""
    case_id = req.dispute_id(name, field)
    tracing.about(case_id=case_id)
    return case_id


def _comment(value: str, v: Violations, *, required=False) -> str:
    return validation.text(value, "comment", v, required=required)


class DisputesServicer(AdminMethods, disputes_pb2_grpc.DisputesServiceServicer):
    def __init__(self, ctx: DisputesContext, pages: PageTokens):
        self.ctx = ctx
        self.pages = pages

    async def CreateDispute(self, request, context):
        data = req.new_dispute(request.dispute)
        view = await intake.create_dispute(self.ctx, data, request_key(request))
        return convert.dispute(view)

    async def GetDispute(self, request, context):
        return convert.dispute(await casework.get_dispute(self.ctx, _case(request.name)))

    async def ListDisputes(self, request, context):
        terms = [_window(t) for t in parse_filter(request.filter, DISPUTE_FILTERS)]
        order = parse_order_by(request.order_by, ORDERABLE, "create_time")
        key = query_key(request.filter, order)
        page = self.pages.page(request.page_size, request.page_token, key)
        views = await casework.list_disputes(self.ctx, terms, order, page)
        return pb.ListDisputesResponse(
            disputes=[convert.dispute(v) for v in views],
            next_page_token=self.pages.next_token(page, len(views), key),
        )

    async def UpdateDispute(self, request, context):
        d = request.dispute
        case_id = _case(d.name, "dispute.name")
        fields = req.mask(request.update_mask, casework.UPDATABLE)
        v = Violations()
        data = casework.DisputeChanges(
            title=validation.text(d.title, "dispute.title", v, required="title" in fields),
            priority=req.priority(d.priority, "dispute.priority", v),
            external_ref=validation.text(d.external_ref, "dispute.external_ref", v),
            coordinator=validation.text(d.coordinator, "dispute.coordinator", v),
        )
        v.raise_if_any()
        return convert.dispute(
            await casework.update_dispute(self.ctx, case_id, d.etag, data, fields)
        )

    async def _move(self, request, action: Action, *, comment_required=False, **kw):
        case_id = _case(request.name)
        v = Violations()
        comment = _comment(request.comment, v, required=comment_required)
        v.raise_if_any()
        view = await workflow.transition(self.ctx, case_id, request.etag, action, comment, **kw)
        return convert.dispute(view)

    async def AssignDispute(self, request, context):
        v = Violations()
        assignee = validation.text(request.assignee, "assignee", v, required=True)
        v.raise_if_any()
        return await self._move(request, Action.ASSIGN, assignee=assignee)

    async def StartDispute(self, request, context):
        return await self._move(request, Action.START)

    async def PauseDispute(self, request, context):
        if (
            request.reason == pb.PAUSE_REASON_UNSPECIFIED
            or request.reason not in pb.PauseReason.values()
        ):
            raise InvalidArgument.of(
                "reason", "PENDING_CUSTOMER or PENDING_THIRD_PARTY is required"
            )
        return await self._move(
            request, Action.PAUSE, pause_reason=pb.PauseReason.Name(request.reason)
        )

    async def ResumeDispute(self, request, context):
        return await self._move(request, Action.RESUME)

    async def EscalateDispute(self, request, context):
        v = Violations()
        reason = req.code(request.reason_code, "reason_code", v)
        team = request.team.strip().upper()
        v.require(
            not team or team in workflow.TEAMS, "team", f"must be one of {workflow.TEAMS} or empty"
        )
        summary = validation.text(request.summary, "summary", v)
        v.raise_if_any()
        escalation = workflow.Escalation(reason, team, summary)
        return await self._move(request, Action.ESCALATE, escalation=escalation)

    async def ResolveDispute(self, request, context):
        case_id = _case(request.name)
        v = Violations()
        cause = req.code(request.root_cause_code, "root_cause_code", v)
        outcome = req.outcome(request.outcome, v)
        comment = _comment(request.comment, v)
        decisions = req.decisions(request.decisions, v)
        v.raise_if_any()
        assert outcome is not None  # a missing outcome was a violation
        view = await resolution.resolve(
            self.ctx, case_id, request.etag, cause, outcome, comment, decisions
        )
        return convert.dispute(view)

    async def CloseDispute(self, request, context):
        return await self._move(request, Action.CLOSE)

    async def WithdrawDispute(self, request, context):
        return await self._move(request, Action.WITHDRAW, comment_required=True)

    async def VoidDispute(self, request, context):
        return await self._move(request, Action.VOID, comment_required=True)

    async def ReopenDispute(self, request, context):
        return await self._move(request, Action.REOPEN, comment_required=True)

    async def AddNote(self, request, context):
        case_id = _case(request.parent, "parent")
        v = Violations()
        text = validation.text(request.note.text, "note.text", v, required=True)
        v.raise_if_any()
        return convert.note(await casework.add_note(self.ctx, case_id, text))

    async def AddEvidence(self, request, context):
        case_id = _case(request.parent, "parent")
        v = Violations()
        uri = validation.text(request.evidence.uri, "evidence.uri", v, required=True)
        v.require(
            not uri or uri.startswith(("https://", "http://")),
            "evidence.uri",
            "must be an http(s) link",
        )
        description = validation.text(request.evidence.description, "evidence.description", v)
        v.raise_if_any()
        return convert.evidence(await casework.add_evidence(self.ctx, case_id, uri, description))

    async def ListDisputeHistory(self, request, context):
        case_id = _case(request.parent, "parent")
        key = query_key(case_id)
        page = self.pages.page(request.page_size, request.page_token, key)
        rows = await casework.list_history(self.ctx, case_id, page)
        return pb.ListDisputeHistoryResponse(
            entries=[convert.history_entry(r) for r in rows],
            next_page_token=self.pages.next_token(page, len(rows), key),
        )

    async def GetDisputeTrace(self, request, context):
        view = await case_trace.case_trace(self.ctx, _case(request.name))
        return convert.case_trace(view)

    async def ApplyEscalationAnswer(self, request, context):
        case_id = _case(request.dispute, "dispute")
        v = Violations()
        v.require(
            request.escalation.startswith("escalations/"),
            "escalation",
            "must look like 'escalations/{id}'",
        )
        v.require(
            request.kind in ("RESOLVED", "HANDED_BACK"), "kind", "must be RESOLVED or HANDED_BACK"
        )
        v.require(bool(request.request_id), "request_id", "is required (the event id)")
        answer = casework.EscalationAnswer(
            escalation=request.escalation,
            team=validation.text(request.team, "team", v),
            kind=request.kind,
            outcome_code=validation.text(request.outcome_code, "outcome_code", v),
            note=validation.text(request.note, "note", v),
            evidence_links=tuple(
                validation.text(link, f"evidence_links[{n}]", v)
                for n, link in enumerate(request.evidence_links)
            ),
            answered_by=validation.text(request.answered_by, "answered_by", v),
        )
        v.raise_if_any()
        view = await casework.apply_escalation_answer(
            self.ctx, case_id, answer, request_key(request)
        )
        return convert.dispute(view)

    async def RecordEscalation(self, request, context):
        item = req.record_item(request)
        tracing.about(case_id=item.case_id)
        return convert.recorded(await escalation_records.record_escalation(self.ctx, item))

    async def RecordEscalations(self, request, context):
        items = req.record_items(request)
        results = await batch.answered_in_order(
            items,
            lambda valid: escalation_records.record_escalations(self.ctx, valid),
            convert.record_result,
        )
        return pb.RecordEscalationsResponse(results=results)
