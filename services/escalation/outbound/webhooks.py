"""Sending one webhook delivery: a signed POST of the event's JSON body."""

from __future__ import annotations

import httpx

from services.escalation.data.deliveries import LeasedDelivery
from services.escalation.domain.webhooks import sign

USER_AGENT = "Settle-Webhooks/1"


class WebhookClient:
    def __init__(self, client: httpx.AsyncClient, timeout_s: float):
        self.client, self.timeout_s = client, timeout_s

    async def post(self, d: LeasedDelivery) -> str | None:
        """None when the endpoint took it (2xx), else why not, without the URL."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Settle-Delivery": d.id,
            "X-Settle-Event": d.event_type,
            "X-Settle-Signature": sign(d.secret, d.body),
        }
        try:
            response = await self.client.post(
                d.endpoint, content=d.body, headers=headers, timeout=self.timeout_s
            )
        except httpx.HTTPError as exc:  # the class says enough; messages can carry the URL
            return type(exc).__name__
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"
