"""The outbox admin API through the gateway: each service's outbox at its own routes
(/v1/outboxes/<service>/...), reached by sre and admin, refused to everyone else over HTTP and
gRPC."""

from __future__ import annotations

import grpc
import pytest

from settle.common.v1 import outbox_pb2 as pb
from tests.gateway.support import (
    GATEWAY_DOMAIN,
    ZERO_ID,
    bearer,
    error_info,
    grpc_error_info,
    running_stack,
    token,
)

SERVICES = ("accounts", "disputes", "escalation")


@pytest.fixture(scope="module")
def stack(database_factory):
    with running_stack(database_factory) as running:
        yield running


@pytest.mark.parametrize("service", SERVICES)
def test_sre_reaches_each_services_own_outbox(stack, service):
    listed = stack.http.get(
        f"/v1/outboxes/{service}/events", params={"filter": "state=PARKED"}, headers=bearer("sre")
    )
    assert listed.status_code == 200, listed.text
    actions = stack.http.get(f"/v1/outboxes/{service}/actions", headers=bearer("admin"))
    assert actions.status_code == 200, actions.text
    # Answered by that service: the event is its own outbox's, and it has none by this id.
    retry = stack.http.post(
        f"/v1/outboxes/{service}/events/{ZERO_ID}:retry", json={}, headers=bearer("sre")
    )
    assert retry.status_code == 404, retry.text
    discard = stack.http.post(
        f"/v1/outboxes/{service}/events/{ZERO_ID}:discard", json={}, headers=bearer("sre")
    )
    assert discard.status_code == 400 and "reason" in discard.text


@pytest.mark.parametrize("role", ["collector", "team_lead", "specialist"])
def test_other_roles_are_refused_over_http_and_grpc(stack, role):
    for path, method in (
        ("/v1/outboxes/disputes/events", "GET"),
        (f"/v1/outboxes/escalation/events/{ZERO_ID}:discard", "POST"),
    ):
        response = stack.http.request(
            method, path, headers=bearer(role), content=b"{}" if method == "POST" else None
        )
        assert response.status_code == 403, (path, response.text)
        assert error_info(response.json())["reason"] == "ROLE_NOT_ALLOWED"
    with pytest.raises(grpc.RpcError) as refused:
        stack.channel.unary_unary("/settle.accounts.v1.AccountsOutboxService/RetryOutboxEvent")(
            pb.RetryOutboxEventRequest(
                name=f"outboxes/accounts/events/{ZERO_ID}"
            ).SerializeToString(),
            metadata=(("authorization", f"Bearer {token(role)}"),),
            timeout=5,
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert grpc_error_info(refused.value)["domain"] == GATEWAY_DOMAIN
