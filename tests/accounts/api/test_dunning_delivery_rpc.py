"""Notice delivery through a real SMTP server, on both databases: a refused send is retried and
visible meanwhile, a failed one is retried by a person, and each is delivered once."""

from __future__ import annotations

from datetime import timedelta

import grpc

from common.actor import reset_actor
from settle.accounts.v1 import accounts_pb2 as pb
from tests.accounts.api.dunning_support import CARL
from tests.support.rpc import as_actor, expect_error


async def test_a_refused_send_is_retried_visible_meanwhile_and_delivered_once(dunning):
    customer = await dunning.customer()
    await dunning.disputed_and_promised_invoice(customer)
    dunning.inbox.refuse = True
    await dunning.run(customer)
    assert await dunning.send() == 1

    (notice,) = await dunning.notices(customer)
    assert notice.state == pb.Notice.QUEUED and notice.attempts == 1
    assert "554" in notice.last_error
    assert await dunning.send() == 0  # not before its retry time

    dunning.inbox.refuse = False
    dunning.clock.advance(timedelta(minutes=5))
    assert await dunning.send() == 1
    (notice,) = await dunning.notices(customer)
    assert notice.state == pb.Notice.SENT and notice.attempts == 2 and notice.last_error == ""
    assert len(dunning.inbox.envelopes) == 1
    dunning.clock.advance(timedelta(hours=2))
    assert await dunning.send() == 0


async def test_a_failed_notice_is_retried_by_a_person_and_delivered_once(dunning):
    customer = await dunning.customer()
    await dunning.disputed_and_promised_invoice(customer)
    dunning.inbox.refuse = True
    await dunning.run(customer)
    assert await dunning.send() == 1
    (notice,) = await dunning.notices(customer)
    await expect_error(  # still being retried by the sender
        dunning.stub.RetryNotice(pb.RetryNoticeRequest(name=notice.name)),
        grpc.StatusCode.FAILED_PRECONDITION,
        reason="NOTICE_NOT_FAILED",
    )
    while notice.state == pb.Notice.QUEUED:
        dunning.clock.advance(timedelta(hours=2))
        await dunning.send()
        (notice,) = await dunning.notices(customer)
    assert notice.state == pb.Notice.FAILED and notice.attempts == 8

    token = as_actor("user:other", "collector")
    try:
        await expect_error(
            dunning.stub.RetryNotice(pb.RetryNoticeRequest(name=notice.name)),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    finally:
        reset_actor(token)
    retried = await dunning.stub.RetryNotice(pb.RetryNoticeRequest(name=notice.name))
    assert retried.state == pb.Notice.QUEUED and retried.attempts == 0
    assert retried.last_error.startswith(f"retry asked by {CARL} at ")
    assert "554" in retried.last_error  # the error it failed with, kept in the record
    dunning.inbox.refuse = False
    assert await dunning.send() == 1
    (notice,) = await dunning.notices(customer)
    assert notice.state == pb.Notice.SENT and notice.attempts == 1
    assert len(dunning.inbox.envelopes) == 1
    await expect_error(
        dunning.stub.RetryNotice(pb.RetryNoticeRequest(name=notice.name)),
        grpc.StatusCode.FAILED_PRECONDITION,
        reason="NOTICE_NOT_FAILED",
    )
