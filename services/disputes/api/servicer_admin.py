"""gRPC methods for the data behind cases: code lists, SLA policies and business calendars."""

from __future__ import annotations

from google.protobuf.field_mask_pb2 import FieldMask

from common import validation
from common.errors import InvalidArgument, Violations
from common.listing import PageTokens, parse_bool, parse_filter, query_key
from common.protoconv import request_key
from services.disputes.api import convert
from services.disputes.api import requests as req
from services.disputes.service import catalog, sla_admin
from services.disputes.service.context import DisputesContext
from settle.disputes.v1 import disputes_pb2 as pb


def _key(name: str, collection: str, field: str = "name") -> str:
    prefix = f"{collection}/"
    if not name.startswith(prefix) or not name[len(prefix) :]:
        raise InvalidArgument.of(field, f"must look like '{collection}/{{id}}'")
    return name[len(prefix) :]


def _merged(current, given, fields: tuple[str, ...]):
    """The stored resource with the masked fields taken from the request, validated as a whole
    (the etag in the update's transaction guards against a change in between)."""
    FieldMask(paths=list(fields)).MergeMessage(
        given, current, replace_message_field=True, replace_repeated_field=True
    )
    return current


def _page(pages: PageTokens, request, *parts):
    key = query_key(*parts)
    return pages.page(request.page_size, request.page_token, key), key


class AdminMethods:
    """Mixed into DisputesServicer, which sets `ctx` and `pages`."""

    ctx: DisputesContext
    pages: PageTokens

    async def _list_codes(self, request, which: str, filters: dict, to_pb):
        terms = parse_filter(request.filter, filters)
        page, key = _page(self.pages, request, which, request.filter)
        rows = await catalog.list_codes(self.ctx, which, terms, page)
        return [to_pb(r) for r in rows], self.pages.next_token(page, len(rows), key)

    async def ListReasonCodes(self, request, context):
        rows, token = await self._list_codes(
            request, "reason", {"active": parse_bool, "code": str}, convert.reason_code
        )
        return pb.ListReasonCodesResponse(reason_codes=rows, next_page_token=token)

    async def CreateReasonCode(self, request, context):
        m, v = request.reason_code, Violations()
        values = dict(
            code=req.code(m.code, "reason_code.code", v),
            display_name=validation.text(m.display_name, "reason_code.display_name", v),
            description=validation.text(m.description, "reason_code.description", v),
            x12_code=validation.text(m.x12_code, "reason_code.x12_code", v),
            edifact_code=validation.text(m.edifact_code, "reason_code.edifact_code", v),
            requires_note=m.requires_note,
        )
        v.raise_if_any()
        row = await catalog.create_code(self.ctx, "reason", values, request_key(request))
        return convert.reason_code(row)

    async def DeactivateReasonCode(self, request, context):
        row = await catalog.deactivate_code(self.ctx, "reason", _key(request.name, "reasonCodes"))
        return convert.reason_code(row)

    async def ListRootCauses(self, request, context):
        filters = {"active": parse_bool, "code": str, "owning_team": str}
        rows, token = await self._list_codes(request, "root_cause", filters, convert.root_cause)
        return pb.ListRootCausesResponse(root_causes=rows, next_page_token=token)

    async def CreateRootCause(self, request, context):
        m, v = request.root_cause, Violations()
        team = m.owning_team.strip().upper()
        v.require(
            team in req.OWNING_TEAMS, "root_cause.owning_team", f"must be one of {req.OWNING_TEAMS}"
        )
        values = dict(
            code=req.code(m.code, "root_cause.code", v),
            display_name=validation.text(m.display_name, "root_cause.display_name", v),
            description=validation.text(m.description, "root_cause.description", v),
            owning_team=team,
            requires_note=m.requires_note,
        )
        v.raise_if_any()
        row = await catalog.create_code(self.ctx, "root_cause", values, request_key(request))
        return convert.root_cause(row)

    async def DeactivateRootCause(self, request, context):
        row = await catalog.deactivate_code(
            self.ctx, "root_cause", _key(request.name, "rootCauses")
        )
        return convert.root_cause(row)

    async def ListSlaPolicies(self, request, context):
        filters = {"active": parse_bool, "clock": lambda s: req.enum_name(pb.ClockKind, s)}
        terms = parse_filter(request.filter, filters)
        page, key = _page(self.pages, request, "policies", request.filter)
        rows = await sla_admin.list_policies(self.ctx, terms, page)
        return pb.ListSlaPoliciesResponse(
            sla_policies=[convert.sla_policy(r) for r in rows],
            next_page_token=self.pages.next_token(page, len(rows), key),
        )

    async def GetSlaPolicy(self, request, context):
        row = await sla_admin.get_policy(self.ctx, _key(request.name, "slaPolicies"))
        return convert.sla_policy(row)

    async def CreateSlaPolicy(self, request, context):
        policy_id = request.sla_policy_id  # its form is the contract's (the protos' pattern)
        policy, display_name = req.policy(request.sla_policy, policy_id)
        row = await sla_admin.create_policy(self.ctx, policy, display_name, request_key(request))
        return convert.sla_policy(row)

    async def UpdateSlaPolicy(self, request, context):
        policy_id = _key(request.sla_policy.name, "slaPolicies", "sla_policy.name")
        fields = req.mask(request.update_mask, sla_admin.POLICY_FIELDS)
        current = convert.sla_policy(await sla_admin.get_policy(self.ctx, policy_id))
        policy, display_name = req.policy(_merged(current, request.sla_policy, fields), policy_id)
        row = await sla_admin.update_policy(
            self.ctx, policy, display_name, request.sla_policy.etag, fields
        )
        return convert.sla_policy(row)

    async def ListCalendars(self, request, context):
        page, key = _page(self.pages, request, "calendars")
        rows = await sla_admin.list_calendars(self.ctx, page)
        return pb.ListCalendarsResponse(
            calendars=[convert.calendar(r) for r in rows],
            next_page_token=self.pages.next_token(page, len(rows), key),
        )

    async def GetCalendar(self, request, context):
        return convert.calendar(
            await sla_admin.get_calendar(self.ctx, _key(request.name, "calendars"))
        )

    async def CreateCalendar(self, request, context):
        calendar_id = request.calendar_id  # its form is the contract's (the protos' pattern)
        spec = req.calendar(request.calendar, calendar_id)
        return convert.calendar(
            await sla_admin.create_calendar(self.ctx, spec, request_key(request))
        )

    async def UpdateCalendar(self, request, context):
        calendar_id = _key(request.calendar.name, "calendars", "calendar.name")
        fields = req.mask(request.update_mask, sla_admin.CALENDAR_FIELDS)
        current = convert.calendar(await sla_admin.get_calendar(self.ctx, calendar_id))
        spec = req.calendar(_merged(current, request.calendar, fields), calendar_id)
        row = await sla_admin.update_calendar(self.ctx, spec, request.calendar.etag, fields)
        return convert.calendar(row)
