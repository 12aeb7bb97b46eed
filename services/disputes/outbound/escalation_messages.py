"""RaiseEscalationRequest as docs/contracts.md fixes it.

The escalation service's generated module is used when it exists. Without it (the escalation
proto not built), a wire-identical copy of the message's scalar fields is built in a private
descriptor pool, so the disputes outbox keeps working and its events stay readable by the
consumer; the Team and Severity enums are then left unset (routing chooses) and the team asked
for travels in `attributes["team"]`.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from settle.common.v1 import common_pb2

METHOD = "/settle.escalation.v1.EscalationService/RaiseEscalation"

try:  # pragma: no cover - depends on what is built
    from settle.escalation.v1 import escalation_pb2 as _real
except ImportError:  # pragma: no cover
    _real = None


def _fallback():
    pool = descriptor_pool.DescriptorPool()
    common = descriptor_pb2.FileDescriptorProto()
    common_pb2.DESCRIPTOR.CopyToProto(common)
    pool.Add(common)
    f = descriptor_pb2.FileDescriptorProto(
        name="settle/disputes/escalation_contract.proto",
        package="settle.escalation.v1",
        syntax="proto3",
        dependency=[common.name],
    )
    msg = f.message_type.add(name="RaiseEscalationRequest")
    entry = msg.nested_type.add(
        name="AttributesEntry", options=descriptor_pb2.MessageOptions(map_entry=True)
    )
    T = descriptor_pb2.FieldDescriptorProto
    for number, name in ((1, "key"), (2, "value")):
        entry.field.add(name=name, number=number, type=T.TYPE_STRING, label=T.LABEL_OPTIONAL)
    for number, name in (
        (1, "subject"),
        (3, "reason_code"),
        (5, "summary"),
        (7, "raised_by"),
        (8, "trigger_event_id"),
        (10, "request_id"),
    ):
        msg.field.add(name=name, number=number, type=T.TYPE_STRING, label=T.LABEL_OPTIONAL)
    msg.field.add(
        name="amount_at_stake",
        number=6,
        type=T.TYPE_MESSAGE,
        label=T.LABEL_OPTIONAL,
        type_name=".settle.common.v1.Money",
    )
    msg.field.add(
        name="attributes",
        number=9,
        type=T.TYPE_MESSAGE,
        label=T.LABEL_REPEATED,
        type_name=".settle.escalation.v1.RaiseEscalationRequest.AttributesEntry",
    )
    pool.Add(f)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("settle.escalation.v1.RaiseEscalationRequest")
    )


RaiseEscalationRequest = _real.RaiseEscalationRequest if _real is not None else _fallback()


def raise_request(
    *,
    subject: str,
    reason_code: str,
    summary: str,
    amount,
    raised_by: str,
    trigger_event_id: str,
    attributes: dict[str, str],
    team: str = "",
):
    request = RaiseEscalationRequest(
        subject=subject,
        reason_code=reason_code,
        summary=summary,
        raised_by=raised_by,
        trigger_event_id=trigger_event_id,
        attributes={k: str(v) for k, v in attributes.items() if v != ""},
    )
    if amount is not None:
        request.amount_at_stake.CopyFrom(amount)
    if team:
        request.attributes["team"] = team
        if _real is not None:
            request.team = _real.Team.Value(team)
    return request
