"""Sending one webhook delivery: a signed POST of the event's JSON body, to the address
common/webhooks.py checked and pinned against the endpoint policy. What went wrong is logged;
the subscriber's delivery says only "connection error" or the HTTP status, so an endpoint cannot
be used to learn which internal ports answer."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import structlog

from common.webhooks import EndpointPolicy, Refused, Resolver, pinned_target, resolve, sign
from services.escalation.data.deliveries import LeasedDelivery

USER_AGENT = "Settle-Webhooks/1"
CONNECTION_ERROR = "delivery failed: connection error"
log = structlog.get_logger("settle.escalation.webhooks")


class WebhookClient:
    def __init__(
        self,
        client: httpx.AsyncClient,
        timeout_s: float,
        policy: EndpointPolicy,
        resolver: Resolver = resolve,
    ):
        self.client, self.timeout_s = client, timeout_s
        self.policy, self.resolver = policy, resolver

    async def post(self, d: LeasedDelivery) -> str | None:
        """None when the endpoint took it (2xx), else what the subscriber may be told."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Settle-Delivery": d.id,
            "X-Settle-Event": d.event_type,
            "X-Settle-Signature": sign(d.secret, d.body),
        }
        host = urlsplit(d.endpoint).hostname or ""
        try:
            target = await pinned_target(self.policy, d.endpoint, self.resolver)
            headers["Host"] = target.host_header
            response = await self.client.post(
                target.url,
                content=d.body,
                headers=headers,
                timeout=self.timeout_s,
                extensions=target.extensions,
            )
        except (Refused, OSError, ValueError, httpx.HTTPError) as exc:
            # The class (and a refusal's reason) for operators; messages can carry the URL.
            detail = str(exc) if isinstance(exc, Refused) else type(exc).__name__
            log.warning("webhook not delivered", delivery_id=d.id, host=host, error=detail)
            return CONNECTION_ERROR
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"
