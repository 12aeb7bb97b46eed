"""An event's JSON body is built without json_format, and must be exactly what json_format makes of
the EscalationEvent message (webhook receivers verify signatures over it, watch streams parse it):
compared byte for byte over escalations in every shape, and a field added to the message but not
to the body fails here. Pure conversion: no database is involved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st

from common.protoconv import timestamp
from services.escalation.api import convert, event_json
from services.escalation.data.reads import ClockRecord, EscalationRecord
from services.escalation.service.clocks import ClockView
from services.escalation.service.journal import EscalationView
from settle.escalation.v1 import escalation_pb2 as pb

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
texts = st.text(max_size=12)  # unicode, quotes, control characters: escaped alike
times = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
optional_times = st.none() | times | st.just(AT.replace(microsecond=250_000))
ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)


@st.composite
def views(draw) -> EscalationView:
    fired = draw(st.lists(st.sampled_from(["WARNING_50", "WARNING_75", "BREACH"]), unique=True))
    status = draw(st.sampled_from(["RUNNING", "PAUSED", "MET", "CANCELLED"]))
    clock = ClockRecord(
        "GBS", 240, status, AT, 0, None, 0, None, None, None, ",".join(fired), None
    )  # what the body shows of the clock comes from the ClockView below
    with_amount = draw(st.booleans())
    row = EscalationRecord(
        id=draw(ids),
        subject=draw(st.sampled_from(["disputes/" + "a" * 32, "customers/" + "c" * 32])),
        team=draw(st.sampled_from(["SALES", "GBS", "LEGAL", "TEAM_LEAD"])),
        reason_code=draw(st.sampled_from(["SLA_BREACH", "SLA_WARNING", "LEGAL_FLAG"])),
        severity=draw(st.integers(1, 4)),
        summary=draw(texts),
        amount_minor=draw(st.integers(-(10**12), 10**12)) if with_amount else None,
        amount_currency=draw(st.sampled_from(["EUR", "JPY", "KWD"])) if with_amount else None,
        raised_by=draw(st.sampled_from(["rule:sla-breach", "user:alice", ""])),
        trigger_event_id=draw(st.sampled_from(["", "ev-1"])),
        attributes=draw(st.sampled_from(["{}", '{"dispute_reason": "QUALITY", "a": "\\u00e9"}'])),
        state=draw(st.sampled_from(["", "OPEN", "CLAIMED", "INFO_REQUESTED", "RESOLVED"])),
        assignee=draw(st.sampled_from(["", "user:bob"])),
        info_request=draw(texts),
        info_response=draw(texts),
        outcome_code=draw(st.sampled_from(["", "CREDIT_NOTE"])),
        note=draw(texts),
        evidence_links=draw(st.sampled_from(["[]", '["https://x.example/1", "b"]'])),
        answered_by=draw(st.sampled_from(["", "user:carol"])),
        routing_rule_id=draw(st.none() | ids),
        origin_traceparent=None,
        response_due_at=None,
        version=draw(st.integers(1, 10**6)),
        created_at=draw(times),
        updated_at=draw(times),
        closed_at=draw(optional_times),
        clock=clock,
    )
    view = ClockView(
        status=status,
        target_minutes=draw(st.integers(0, 10**7)),
        due_time=draw(optional_times),
        remaining_minutes=draw(st.integers(-(10**7), 10**7)),
        fired=tuple(fired),
    )
    return EscalationView(row, view)


def by_json_format(cursor: str, event_type: str, at: datetime, view: EscalationView) -> bytes:
    message = pb.EscalationEvent(
        cursor=cursor, type=event_type, time=timestamp(at), escalation=convert.escalation(view)
    )
    return json_format.MessageToJson(message, indent=None, sort_keys=True).encode()


@settings(max_examples=300, deadline=None)
@given(views(), st.sampled_from(["", "c-1"]), times)
def test_the_body_is_json_formats_byte_for_byte(view, cursor, at):
    expected = by_json_format(cursor, "escalation.raised", at, view)
    assert event_json.event_body(cursor, "escalation.raised", at, view) == expected


def test_times_keep_json_formats_fractions():
    for micros in (0, 1, 1000, 120_000, 999_999):
        at = AT + timedelta(microseconds=micros)
        expected = json_format.MessageToJson(timestamp(at)).strip('"')
        assert event_json._time(at) == expected


def test_every_field_of_the_message_is_in_the_body():
    """A field added to Escalation, ResponseClock or EscalationEvent must be added to the body."""
    covered = {
        pb.EscalationEvent.DESCRIPTOR: {"cursor", "type", "time", "escalation"},
        pb.Escalation.DESCRIPTOR: set(_keys_of(event_json._of)),
        pb.ResponseClock.DESCRIPTOR: {
            "status", "targetMinutes", "dueTime", "remainingMinutes", "fired", "breached",
        },
    }  # fmt: skip
    for descriptor, keys in covered.items():
        assert {f.json_name for f in descriptor.fields} == keys, descriptor.name


def _keys_of(function) -> list[str]:
    """The keys the body's escalation can have: all of them set at once."""
    clock = ClockRecord("GBS", 1, "RUNNING", AT, 0, None, 0, None, None, None, "BREACH", None)
    row = EscalationRecord(
        "a" * 32, "disputes/x", "GBS", "R", 1, "s", 1, "EUR", "r", "t", '{"a": "b"}', "OPEN",
        "a", "i", "j", "o", "n", '["l"]', "b", "r1", None, None, 1, AT, AT, AT, clock,
    )  # fmt: skip
    return list(function(EscalationView(row, ClockView("RUNNING", 1, AT, 1, ("BREACH",)))))
