"""A raise answered from the idempotency store says so: the trailer `settle-replayed: true`, and
for a batch only some of whose items replayed, `settle-replayed-items` listing them."""

from __future__ import annotations

from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.support import raise_request


def _breach(subject: str, request_id: str) -> pb.RaiseEscalationRequest:
    return raise_request(
        subject,
        reason_code="SLA_BREACH",
        raised_by="rule:sla-breach",
        trigger_event_id=f"ev-{request_id}",
        request_id=request_id,
    )


async def _trailers(call) -> dict[str, str]:
    await call
    return dict(await call.trailing_metadata())


async def test_a_raise_sent_again_is_marked_replayed(esc):
    request = _breach("disputes/" + "a" * 32, "raise-1")
    first = esc.stub.RaiseEscalation(request)
    assert "settle-replayed" not in await _trailers(first)
    again = esc.stub.RaiseEscalation(request)
    assert (await _trailers(again))["settle-replayed"] == "true"
    assert await again == await first  # the same answer, marked
    without_id = _breach("disputes/" + "a" * 32, "")
    assert "settle-replayed" not in await _trailers(esc.stub.RaiseEscalation(without_id))


async def test_a_batch_lists_the_items_it_replayed(esc):
    def item(subject: str, request_id: str):
        return pb.RaiseEscalationsRequest.Item(request=_breach(subject, request_id))

    earlier = item("disputes/" + "b" * 32, "b-1")
    await esc.stub.RaiseEscalations(pb.RaiseEscalationsRequest(items=[earlier]))
    fresh, twin = item("disputes/" + "c" * 32, "c-1"), item("disputes/" + "c" * 32, "c-1")
    mixed = esc.stub.RaiseEscalations(pb.RaiseEscalationsRequest(items=[earlier, fresh, twin]))
    said = await _trailers(mixed)
    # the item seen in an earlier call, and the twin answered by this call's first "c-1"
    assert said["settle-replayed-items"] == "0,2" and "settle-replayed" not in said
    whole = esc.stub.RaiseEscalations(pb.RaiseEscalationsRequest(items=[earlier, fresh]))
    said = await _trailers(whole)
    assert said["settle-replayed"] == "true" and "settle-replayed-items" not in said
