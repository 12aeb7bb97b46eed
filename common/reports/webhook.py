"""Delivery of a finished report's link to a webhook: a signed JSON POST (common/webhooks.py's
signature, SSRF address policy and pinned address, the same piece escalation's subscriber
deliveries use), never the data. A schedule's recipients that are http(s) URLs are webhooks,
the others e-mail addresses (`Deliveries` sends each its way)."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import structlog

from common.reports.delivery import DeliveryFailed, Mailer, ReportNotice
from common.webhooks import EndpointPolicy, Refused, Resolver, pinned_target, resolve, sign

USER_AGENT = "Settle-Reports/1"
log = structlog.get_logger("settle.reports.webhook")


def is_webhook(recipient: str) -> bool:
    return recipient.startswith(("https://", "http://"))


def body_of(notice: ReportNotice, report: str) -> bytes:
    return json.dumps(
        {
            "delivery_id": notice.delivery_id,
            "report": report,
            "title": notice.report_title,
            "period_start": notice.period.first.isoformat(),
            "period_end": notice.period.last.isoformat(),
            "link": notice.link,
            "expires_at": notice.expires_at.isoformat().replace("+00:00", "Z"),
        },
        sort_keys=True,
    ).encode()


class WebhookSender:
    """POSTs the link with `X-Settle-Signature: sha256=<HMAC of the body>` under the service's
    REPORTS_WEBHOOK_SECRET; anything but a 2xx is a failed delivery, retried by the run."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        policy: EndpointPolicy,
        secret: str,
        timeout_s: float = 10.0,
        resolver: Resolver = resolve,
    ):
        self.client, self.policy, self.secret = client, policy, secret
        self.timeout_s, self.resolver = timeout_s, resolver

    async def post(self, endpoint: str, notice: ReportNotice, report: str) -> None:
        body = body_of(notice, report)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Settle-Delivery": notice.delivery_id,
            "X-Settle-Signature": sign(self.secret, body),
        }
        try:
            target = await pinned_target(self.policy, endpoint, self.resolver)
            headers["Host"] = target.host_header
            response = await self.client.post(
                target.url,
                content=body,
                headers=headers,
                timeout=self.timeout_s,
                extensions=target.extensions,
            )
        except (Refused, OSError, ValueError, httpx.HTTPError) as exc:
            # The class (and a refusal's reason) for the run's error; messages can carry the URL.
            detail = str(exc) if isinstance(exc, Refused) else type(exc).__name__
            log.warning("report webhook not delivered", delivery=notice.delivery_id, error=detail)
            raise DeliveryFailed(f"webhook: {detail}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"webhook: HTTP {response.status_code}")


class Deliveries:
    """Sends a notice to its e-mail recipients by the mailer and to its webhooks by the sender."""

    def __init__(self, mailer: Mailer, webhooks: WebhookSender | None):
        self.mailer, self.webhooks = mailer, webhooks

    async def deliver(self, notice: ReportNotice, report: str) -> None:
        addresses = tuple(r for r in notice.recipients if not is_webhook(r))
        if addresses:
            await self.mailer.deliver(_to(notice, addresses))
        for endpoint in (r for r in notice.recipients if is_webhook(r)):
            if self.webhooks is None:
                raise DeliveryFailed("webhook: REPORTS_WEBHOOK_SECRET is not set")
            await self.webhooks.post(endpoint, notice, report)


def _to(notice: ReportNotice, recipients: tuple[str, ...]) -> ReportNotice:
    return replace(notice, recipients=recipients)
