"""Who is calling: the person (or service) behind every RPC, so history and audit record them.

The gateway authenticates people and signs their identity into internal metadata with the shared
internal secret; services sign their own calls the same way. A service accepts only signed calls
(UNAUTHENTICATED otherwise), which is how it refuses traffic that bypasses the gateway.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache

from common.errors import Unauthenticated

HEADER_SUBJECT = "x-settle-subject"
HEADER_ROLES = "x-settle-roles"
HEADER_TEAM = "x-settle-team"
HEADER_TIME = "x-settle-time"
HEADER_SIGNATURE = "x-settle-signature"
MAX_SKEW_S = 300


@dataclass(frozen=True)
class Actor:
    subject: str  # "user:alice", "service:disputes", "rule:sla-breach"
    roles: tuple[str, ...] = field(default_factory=tuple)
    team: str = ""

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


SYSTEM = Actor("system")
_current: ContextVar[Actor | None] = ContextVar("settle_actor", default=None)


def current_actor() -> Actor:
    return _current.get() or SYSTEM


def set_actor(actor: Actor | None):
    return _current.set(actor)


def reset_actor(token) -> None:
    _current.reset(token)


# The stamp is in whole seconds, so a caller signs, and a service verifies, the same identity many
# times a second: each HMAC is computed once (~10 µs saved per call on each side).
@lru_cache(maxsize=4096)
def _signature(secret: str, subject: str, roles: str, team: str, stamp: str) -> str:
    message = "\n".join((subject, roles, team, stamp)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(actor: Actor, secret: str, now: float | None = None) -> list[tuple[str, str]]:
    """Metadata pairs that carry `actor` to another Settle process."""
    roles = ",".join(actor.roles)
    stamp = str(int(now if now is not None else time.time()))
    return [
        (HEADER_SUBJECT, actor.subject),
        (HEADER_ROLES, roles),
        (HEADER_TEAM, actor.team),
        (HEADER_TIME, stamp),
        (HEADER_SIGNATURE, _signature(secret, actor.subject, roles, actor.team, stamp)),
    ]


def verify(metadata: dict[str, str], secret: str, now: float | None = None) -> Actor:
    subject = metadata.get(HEADER_SUBJECT, "")
    signature = metadata.get(HEADER_SIGNATURE, "")
    if not subject or not signature:
        raise Unauthenticated("calls must come through the gateway or another Settle service")
    roles, team, stamp = (metadata.get(h, "") for h in (HEADER_ROLES, HEADER_TEAM, HEADER_TIME))
    expected = _signature(secret, subject, roles, team, stamp)
    if not hmac.compare_digest(signature, expected):
        raise Unauthenticated("the caller identity is not signed by Settle")
    try:
        skew = abs((now if now is not None else time.time()) - int(stamp))
    except ValueError:
        raise Unauthenticated("the caller identity has no valid time") from None
    if skew > MAX_SKEW_S:
        raise Unauthenticated("the caller identity has expired")
    return Actor(subject, tuple(r for r in roles.split(",") if r), team)
