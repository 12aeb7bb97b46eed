"""Signed webhooks every service sends (escalation's subscriber deliveries, scheduled reports'
links): the HMAC signature, endpoint validation, which addresses an endpoint may reach (SSRF), and
the checked, pinned address a POST goes to.

The endpoint's name is resolved at delivery and every address it resolves to is checked; the POST
then goes to the checked address itself, with the original Host header and TLS server name, so a
DNS answer that changes between the check and the connection (rebinding) cannot send it
elsewhere."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from common.errors import Violations

SIGNATURE_PREFIX = "sha256="
MAX_URI = 2000


def sign(secret: str, body: bytes) -> str:
    """The X-Settle-Signature value: HMAC-SHA256 of the raw body, hex encoded."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does (documented in docs/escalation.md); constant-time comparison."""
    return hmac.compare_digest(sign(secret, body), header or "")


def check_endpoint(uri: str, field: str, v: Violations) -> None:
    if not uri:
        v.add(field, "is required")
        return
    if len(uri) > MAX_URI:
        v.add(field, f"must be at most {MAX_URI} characters")
        return
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        v.add(field, "is not a valid URL")
        return
    if parts.scheme not in ("http", "https") or not parts.hostname:
        v.add(field, "must be an http:// or https:// URL with a host")
    elif parts.username or parts.password:
        # Credentials in a URL end up in logs and listings; the secret is the credential.
        v.add(field, "must not contain a user name or password")
    elif parts.fragment:
        v.add(field, "must not have a #fragment")


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Cloud instance metadata services (AWS, GCP and Azure share the first; AWS IPv6; Alibaba).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
# Names that mean this machine or its metadata service whatever DNS says.
LOCAL_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal"})
_REFUSED_KINDS = (
    ("is_loopback", "a loopback address"),
    ("is_link_local", "a link-local address"),
    ("is_multicast", "a multicast address"),
    ("is_unspecified", "an unspecified address"),
    ("is_private", "a private address"),
    ("is_reserved", "a reserved address"),
)


@dataclass(frozen=True)
class EndpointPolicy:
    """Where webhooks may go (SSRF, OWASP API7): https only outside development, and only to
    public addresses, unless the allow-list (ESCALATION_WEBHOOK_ALLOW) names the host or a
    network holding the address. Checked when a subscription is made and again at every delivery,
    on every address the name resolves to."""

    https_only: bool = True
    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, allow: Iterable[str], *, https_only: bool) -> EndpointPolicy:
        """`allow`: CIDRs or addresses ("127.0.0.1/32", "10.1.2.3") and host names."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in (e.strip() for e in allow):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(_host(entry))
        return cls(https_only, tuple(networks), frozenset(hosts))

    def allows_host(self, host: str) -> bool:
        return _host(host) in self.hosts

    def refusal(self, address: str) -> str | None:
        """Why a connection to `address` is refused; None when it may be made."""
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])  # no IPv6 zone
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in network for network in self.networks):
            return None
        if ip in METADATA_ADDRESSES:
            return "a cloud metadata address"
        for kind, what in _REFUSED_KINDS:
            if getattr(ip, kind):
                return what
        return None if ip.is_global else "a non-public address"

    def check_uri(self, uri: str, field: str, v: Violations) -> None:
        """A subscription's endpoint: a valid URL (check_endpoint), https unless in development,
        and no host that is, or always means, an address the policy refuses. Other names are
        resolved and checked at delivery."""
        found = len(v.items)
        check_endpoint(uri, field, v)
        if len(v.items) > found:
            return
        parts = urlsplit(uri)
        if self.https_only and parts.scheme != "https":
            v.add(field, "must be an https:// URL")
            return
        host = _host(parts.hostname or "")
        if self.allows_host(host):
            return
        literal = literal_address(host)
        reason = self.refusal(literal) if literal is not None else None
        if literal is None and (host in LOCAL_NAMES or host.endswith(".localhost")):
            reason = "this machine or its metadata service"
        if reason is not None:
            v.add(field, f"must not point at {reason}")


def literal_address(host: str) -> str | None:
    """The address a host written as one stands for ("10.0.0.1", "::1", and the forms
    resolvers also read as IPv4: "2130706433", "0x7f.1"); None for a name."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


def _host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


# (host, port) -> the addresses it resolves to
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


class Refused(Exception):
    """The endpoint may not be called; the message is for the logs only."""


@dataclass(frozen=True)
class PinnedTarget:
    """Where a POST to an endpoint goes: the checked address, with the endpoint's Host header and
    TLS server name."""

    url: str
    host_header: str
    extensions: dict


async def pinned_target(policy: EndpointPolicy, endpoint: str, resolver: Resolver) -> PinnedTarget:
    """Every address the endpoint's host resolves to must pass the policy (else Refused)."""
    parts = urlsplit(endpoint)
    scheme, host = parts.scheme, parts.hostname or ""
    if policy.https_only and scheme != "https":
        raise Refused("https required")
    literal = literal_address(host)
    addresses = [literal] if literal is not None else await resolver(host, _port(parts))
    if not addresses:
        raise Refused("the name resolved to no address")
    if not policy.allows_host(host):
        for address in addresses:
            if (reason := policy.refusal(address)) is not None:
                raise Refused(f"{address} is {reason}")
    ip = f"[{addresses[0]}]" if ":" in addresses[0] else addresses[0]
    url = urlunsplit((scheme, f"{ip}:{_port(parts)}", parts.path or "/", parts.query, ""))
    return PinnedTarget(url, parts.netloc, {"sni_hostname": host} if scheme == "https" else {})


def _port(parts) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)
