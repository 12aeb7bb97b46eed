"""Webhooks cannot be pointed inside (SSRF, OWASP API7): loopback, link-local, private,
multicast, unspecified and metadata addresses are refused when a subscription is made and again
at delivery, on every address the name resolves to; the connection goes to the address checked;
the subscriber learns nothing about which internal ports answer."""

from __future__ import annotations

from dataclasses import replace

import grpc
import httpx
import pytest

from common.clock import ManualClock
from common.errors import Violations
from common.webhooks import EndpointPolicy
from services.escalation.data.deliveries import LeasedDelivery
from services.escalation.outbound.webhooks import CONNECTION_ERROR, WebhookClient
from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.receiver import receiving
from tests.escalation.support import FAST, START, start_escalation
from tests.support.rpc import expect_error

REFUSED = [
    "http://169.254.169.254/latest/meta-data/iam",  # metadata
    "http://[fd00:ec2::254]/latest",  # metadata, IPv6
    "http://127.0.0.1:50151/",  # loopback: a backend's port
    "http://[::1]/hook",  # loopback, IPv6
    "http://[::ffff:127.0.0.1]/hook",  # loopback, IPv4-mapped
    "http://2130706433/hook",  # loopback, as a resolver reads a bare number
    "http://localhost:8080/hook",  # loopback by name
    "http://hooks.localhost/hook",
    "http://metadata.google.internal/computeMetadata/v1",
    "http://10.0.0.1/hook",  # private
    "http://192.168.1.10/hook",
    "http://172.16.5.4/hook",
    "http://[fd12:3456::1]/hook",  # private (unique local), IPv6
    "http://169.254.10.10/hook",  # link-local
    "http://[fe80::1]/hook",
    "http://224.0.0.251/hook",  # multicast
    "http://[ff02::1]/hook",
    "http://0.0.0.0:8080/hook",  # unspecified
    "http://[::]/hook",
]


def subscription(uri: str) -> pb.CreateSubscriptionRequest:
    return pb.CreateSubscriptionRequest(
        subscription=pb.Subscription(team=pb.GBS, endpoint_uri=uri, secret="s" * 16)
    )


@pytest.fixture
async def no_allow_list(escalation_url):
    config = replace(FAST, webhook_allow=())
    async with start_escalation(escalation_url, ManualClock(START), config=config) as esc:
        yield esc


async def test_internal_addresses_are_refused_at_registration(no_allow_list):
    for uri in REFUSED:
        error = await expect_error(
            no_allow_list.stub.CreateSubscription(subscription(uri)),
            grpc.StatusCode.INVALID_ARGUMENT,
            field="subscription.endpoint_uri",
        )
        assert "must not point at" in error.details(), uri
    public = await no_allow_list.stub.CreateSubscription(subscription("http://8.8.8.8/hook"))
    assert public.endpoint_uri == "http://8.8.8.8/hook"  # development: http is allowed


def test_https_is_required_outside_development_and_the_allow_list_opens_exceptions():
    production = EndpointPolicy.parse([], https_only=True)
    v = Violations()
    production.check_uri("http://hooks.example/x", "uri", v)
    assert [x.field for x in v.items] == ["uri"]
    v = Violations()
    production.check_uri("https://hooks.example/x", "uri", v)
    assert not v.items
    allowed = EndpointPolicy.parse(["10.20.0.0/16", "hooks.internal", " "], https_only=True)
    for uri in ("https://10.20.3.4/x", "https://hooks.internal/x", "https://HOOKS.internal./x"):
        v = Violations()
        allowed.check_uri(uri, "uri", v)
        assert not v.items, uri
    v = Violations()
    allowed.check_uri("https://10.21.0.1/x", "uri", v)
    assert v.items


def delivery(endpoint: str) -> LeasedDelivery:
    return LeasedDelivery(
        id="d1",
        subscription_id="s1",
        endpoint=endpoint,
        secret="s" * 16,
        event_type="escalation.raised",
        body=b"{}",
        attempts=1,
    )


def resolving_to(*addresses: str):
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


async def test_a_name_resolving_inside_is_refused_at_delivery_with_a_generic_error():
    async with receiving() as rx, httpx.AsyncClient() as http:
        port = rx.base.rsplit(":", 1)[1]
        open_policy = EndpointPolicy.parse([], https_only=False)
        # Registered as a public name; DNS now answers 127.0.0.1 (rebinding), or one of several
        # answers is internal: nothing is sent.
        for answers in (("127.0.0.1",), ("93.184.215.14", "10.0.0.7"), ("169.254.169.254",)):
            client = WebhookClient(http, 1.0, open_policy, resolving_to(*answers))
            error = await client.post(delivery(f"http://hooks.example:{port}/healthy"))
            assert error == CONNECTION_ERROR
        assert not rx.hits
        # A literal address in a subscription made before these rules is refused too.
        client = WebhookClient(http, 1.0, open_policy, resolving_to("8.8.8.8"))
        assert await client.post(delivery(f"{rx.base}/healthy")) == CONNECTION_ERROR
        assert not rx.hits
        # Outside development an http endpoint is not called at all.
        production = EndpointPolicy.parse(["127.0.0.1/32"], https_only=True)
        client = WebhookClient(http, 1.0, production, resolving_to("127.0.0.1"))
        assert (
            await client.post(delivery(f"http://hooks.example:{port}/healthy")) == CONNECTION_ERROR
        )
        assert not rx.hits


async def test_the_allow_list_lets_a_receiver_through_on_the_checked_address():
    async with receiving() as rx, httpx.AsyncClient() as http:
        port = rx.base.rsplit(":", 1)[1]
        allowed = EndpointPolicy.parse(["127.0.0.1/32"], https_only=False)
        client = WebhookClient(http, 1.0, allowed, resolving_to("127.0.0.1"))
        assert await client.post(delivery(f"http://hooks.example:{port}/healthy")) is None
        (hit,) = rx.hits
        assert hit.path == "/healthy" and hit.delivery == "d1"
        assert rx.hosts == [f"hooks.example:{port}"]  # the name, though the address was pinned
        # A closed port on an allowed address: the subscriber is told no more than that.
        assert await client.post(delivery("http://127.0.0.1:1/hook")) == CONNECTION_ERROR
        # Internal addresses stay refused for names the allow-list does not cover.
        client = WebhookClient(http, 1.0, allowed, resolving_to("10.0.0.1"))
        assert (
            await client.post(delivery(f"http://hooks.example:{port}/healthy")) == CONNECTION_ERROR
        )
        assert len(rx.hits) == 1
