"""Sending one webhook delivery: a signed POST of the event's JSON body, to an address checked
against the endpoint policy.

The endpoint's name is resolved here and every address it resolves to is checked; the POST then
goes to the checked address itself, with the original Host header and TLS server name, so a DNS
answer that changes between the check and the connection (rebinding) cannot send it elsewhere.
What went wrong is logged; the subscriber's delivery says only "connection error" or the HTTP
status, so an endpoint cannot be used to learn which internal ports answer."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

import httpx
import structlog

from services.escalation.data.deliveries import LeasedDelivery
from services.escalation.domain.webhooks import EndpointPolicy, literal_address, sign

USER_AGENT = "Settle-Webhooks/1"
CONNECTION_ERROR = "delivery failed: connection error"
log = structlog.get_logger("settle.escalation.webhooks")

# (host, port) -> the addresses it resolves to
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


class Refused(Exception):
    """The endpoint may not be called; the message is for the logs only."""


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
        parts = urlsplit(d.endpoint)
        host = parts.hostname or ""
        try:
            address = await self._checked_address(parts.scheme, host, _port(parts))
            pinned = _pinned(parts, address)
            headers["Host"] = parts.netloc
            extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
            response = await self.client.post(
                pinned,
                content=d.body,
                headers=headers,
                timeout=self.timeout_s,
                extensions=extensions,
            )
        except (Refused, OSError, ValueError, httpx.HTTPError) as exc:
            # The class (and a refusal's reason) for operators; messages can carry the URL.
            detail = str(exc) if isinstance(exc, Refused) else type(exc).__name__
            log.warning("webhook not delivered", delivery_id=d.id, host=host, error=detail)
            return CONNECTION_ERROR
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    async def _checked_address(self, scheme: str, host: str, port: int) -> str:
        """The address to connect to: every address `host` resolves to must pass the policy."""
        if self.policy.https_only and scheme != "https":
            raise Refused("https required")
        literal = literal_address(host)
        addresses = [literal] if literal is not None else await self.resolver(host, port)
        if not addresses:
            raise Refused("the name resolved to no address")
        if not self.policy.allows_host(host):
            for address in addresses:
                if (reason := self.policy.refusal(address)) is not None:
                    raise Refused(f"{address} is {reason}")
        return addresses[0]


def _port(parts) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def _pinned(parts, address: str) -> str:
    """The endpoint URL with its host replaced by the checked address."""
    ip = f"[{address}]" if ":" in address else address
    return urlunsplit((parts.scheme, f"{ip}:{_port(parts)}", parts.path or "/", parts.query, ""))
