"""Push delivery to a real HTTP receiver on loopback: signed, retried with backoff, at least once,
visible, and a failing endpoint never holds up another."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import replace

import grpc
import pytest

from common.clock import SystemClock
from common.errors import InvalidArgument
from common.webhooks import verify
from services.escalation.api.cursors import WatchCursors
from services.escalation.outbound.webhooks import CONNECTION_ERROR
from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.receiver import receiving
from tests.escalation.support import FAST, raise_request, start_escalation
from tests.support.rpc import TEST_SECRET, as_actor, expect_error

SECRET = "s3cret-for-the-gbs-hook"


async def subscribe(esc, uri: str, team=pb.GBS, secret=SECRET) -> pb.Subscription:
    return await esc.stub.CreateSubscription(
        pb.CreateSubscriptionRequest(
            subscription=pb.Subscription(team=team, endpoint_uri=uri, secret=secret)
        )
    )


async def deliveries(esc, subscription: pb.Subscription) -> list[pb.Delivery]:
    listed = await esc.stub.ListDeliveries(pb.ListDeliveriesRequest(parent=subscription.name))
    return list(listed.deliveries)


async def until(check, within: float = 10.0):
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def subject(i: int) -> str:
    return f"disputes/{i:032x}"


async def test_flaky_receiver_gets_every_event_signed_and_the_healthy_one_is_not_delayed(
    escalation_url,
):
    async with (
        receiving(fail_first=2) as rx,
        start_escalation(escalation_url, SystemClock(), workers=True) as esc,
    ):
        flaky = await subscribe(esc, f"{rx.base}/flaky")
        healthy = await subscribe(esc, f"{rx.base}/healthy")
        other_team = await subscribe(esc, f"{rx.base}/healthy", team=pb.SALES)
        raised_at = time.monotonic()
        made = [
            await esc.stub.RaiseEscalation(raise_request(subject(i), team=pb.GBS)) for i in range(3)
        ]
        await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=made[0].name))

        async def all_delivered():
            found = await deliveries(esc, flaky)
            return len(found) == 4 and all(d.state == pb.DELIVERED for d in found) and found

        done = await until(all_delivered)
        assert time.monotonic() - raised_at < 5
        # Each delivery: two refusals, then accepted once; same id, same body, valid signature.
        by_delivery: dict[str, list] = {}
        for hit in rx.on("/flaky"):
            by_delivery.setdefault(hit.delivery, []).append(hit)
        assert sorted(by_delivery) == sorted(d.name.rsplit("/", 1)[1] for d in done)
        for hits in by_delivery.values():
            assert [h.status for h in hits] == [500, 500, 200]
            assert len({h.body for h in hits}) == 1
            gaps = [b.at - a.at for a, b in itertools.pairwise(hits)]
            assert min(gaps) >= 0.05  # the shortest backoff: half of the 0.1 s base
        # The healthy endpoint got each event once, before the flaky one was even retried.
        first_try = {json.loads(h.body)["cursor"]: h for h in rx.on("/healthy")}
        assert len(first_try) == 4 and len(rx.on("/healthy")) == 4
        for hits in by_delivery.values():
            assert first_try[json.loads(hits[0].body)["cursor"]].at < hits[1].at
        for hit in rx.hits:
            assert verify(SECRET, hit.body, hit.signature), "bad signature"
            assert hit.signature.startswith("sha256=")
            payload = json.loads(hit.body)
            assert payload["type"] == hit.event
            assert payload["escalation"]["team"] == "GBS"
        accepted = [json.loads(h.body) for h in rx.accepted("/flaky")]
        # No feed sequence leaves the service: the body's cursor is a watch cursor sealed for the
        # subscription's team (a GBS member resumes a watch from it, a Sales member cannot), and
        # a delivery's event_cursor is sealed for whoever lists it.
        cursors = WatchCursors(TEST_SECRET)
        as_actor("user:gina", "gbs", team="GBS")
        assert sorted(cursors.open(p["cursor"]) for p in accepted) == [1, 2, 3, 4]
        as_actor("user:sam", "sales", team="SALES")
        with pytest.raises(InvalidArgument):
            cursors.open(accepted[0]["cursor"])
        as_actor("user:ada", "admin")
        listed = await deliveries(esc, flaky)
        assert sorted(cursors.open(d.event_cursor) for d in listed) == [1, 2, 3, 4]
        assert sorted(p["type"] for p in accepted) == [
            "escalation.claimed",
            "escalation.raised",
            "escalation.raised",
            "escalation.raised",
        ]
        assert all(d.attempts == 3 and not d.last_error for d in done)
        assert all(d.attempts == 1 for d in await deliveries(esc, healthy))
        assert await deliveries(esc, other_team) == []


async def test_a_hanging_endpoint_does_not_hold_up_another(escalation_url):
    # Attempts time out after 2 s. Had the healthy endpoint waited behind the hanging one, each
    # of its deliveries would come at least 2 s after its event; they come at once.
    config = replace(FAST, dispatch=replace(FAST.dispatch, timeout_s=2.0))
    async with (
        receiving(hang_s=30.0) as rx,
        start_escalation(escalation_url, SystemClock(), workers=True, config=config) as esc,
    ):
        slow = await subscribe(esc, f"{rx.base}/slow")
        await subscribe(esc, f"{rx.base}/healthy")
        raised = {}
        for i in range(6):
            made = await esc.stub.RaiseEscalation(raise_request(subject(i), team=pb.GBS))
            raised[made.name] = time.monotonic()
        await until(lambda: asyncio.sleep(0, len(rx.accepted("/healthy")) == 6))
        for hit in rx.accepted("/healthy"):
            waited = hit.at - raised[json.loads(hit.body)["escalation"]["name"]]
            assert waited < 1.5, f"healthy delivery waited {waited:.2f} s"

        async def timed_out():
            found = await deliveries(esc, slow)
            return any(d.last_error == CONNECTION_ERROR for d in found) and found

        found = await until(timed_out)
        assert all(d.state == pb.PENDING for d in found)
        assert not rx.on("/slow")  # it never answered


async def test_an_endpoint_that_never_answers_ends_failed_and_can_be_retried(escalation_url):
    config = replace(
        FAST, dispatch=replace(FAST.dispatch, retry=replace(FAST.dispatch.retry, max_attempts=3))
    )
    async with start_escalation(escalation_url, SystemClock(), workers=True, config=config) as esc:
        dead = await subscribe(esc, "http://127.0.0.1:1/hook")
        await esc.stub.RaiseEscalation(raise_request(team=pb.GBS))

        async def failed():
            found = await deliveries(esc, dead)
            return found and found[0].state == pb.FAILED and found

        (delivery,) = await until(failed)
        # Generic: whether the port answered is for the logs, not the subscriber.
        assert delivery.attempts == 3 and delivery.last_error == CONNECTION_ERROR
        retried = await esc.stub.RetryDelivery(pb.RetryDeliveryRequest(name=delivery.name))
        assert retried.state == pb.PENDING and retried.attempts == 0
        await expect_error(
            esc.stub.RetryDelivery(pb.RetryDeliveryRequest(name=delivery.name)),
            grpc.StatusCode.FAILED_PRECONDITION,
        )


async def test_secrets_never_come_back_and_bad_subscriptions_are_refused(esc):
    made = await subscribe(esc, "https://hooks.example/settle")
    assert made.secret == "" and made.team == pb.GBS and made.name.startswith("subscriptions/")
    listed = await esc.stub.ListSubscriptions(pb.ListSubscriptionsRequest())
    assert [s.name for s in listed.subscriptions] == [made.name]
    assert all(s.secret == "" for s in listed.subscriptions)
    assert SECRET not in str(listed)
    error = await expect_error(
        esc.stub.CreateSubscription(
            pb.CreateSubscriptionRequest(
                subscription=pb.Subscription(
                    endpoint_uri="ftp://user:pw@x",
                    secret="short",
                )
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=("subscription.team", "subscription.endpoint_uri", "subscription.secret"),
    )
    assert "short" not in error.details()
    await expect_error(
        subscribe(esc, "https://user:pw@hooks.example/x"),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="subscription.endpoint_uri",
    )
    as_actor("user:sam", "sales", team="SALES")
    await expect_error(
        subscribe(esc, "https://hooks.example/gbs"), grpc.StatusCode.PERMISSION_DENIED
    )
    own = await subscribe(esc, "https://hooks.example/sales", team=pb.SALES)
    listed = await esc.stub.ListSubscriptions(pb.ListSubscriptionsRequest())
    assert [s.name for s in listed.subscriptions] == [own.name]


async def test_deleting_a_subscription_cancels_its_pending_deliveries(esc):
    made = await subscribe(esc, "https://hooks.example/settle")
    await esc.stub.RaiseEscalation(raise_request(team=pb.GBS))
    (pending,) = await deliveries(esc, made)
    assert pending.state == pb.PENDING and pending.event_type == "escalation.raised"
    await esc.stub.DeleteSubscription(pb.DeleteSubscriptionRequest(name=made.name))
    await expect_error(deliveries(esc, made), grpc.StatusCode.NOT_FOUND)
    await esc.stub.RaiseEscalation(raise_request(subject(7), team=pb.GBS))
    assert await esc.parts.dispatcher.dispatch_once() == 0
