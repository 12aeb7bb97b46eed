"""Webhook rules that need no I/O: endpoint validation, the signature, the retry schedule."""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from common.errors import Violations

SIGNATURE_PREFIX = "sha256="
MIN_SECRET, MAX_SECRET = 16, 256
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


def check_secret(secret: str, field: str, v: Violations) -> None:
    if not MIN_SECRET <= len(secret) <= MAX_SECRET:
        v.add(field, f"must be {MIN_SECRET} to {MAX_SECRET} characters")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 20
    base: timedelta = timedelta(seconds=1)
    ceiling: timedelta = timedelta(hours=1)

    def delay(self, attempts: int) -> timedelta:
        """Wait before the next attempt after `attempts` failures: exponential, capped, and
        jittered to between half and all of it so a recovered endpoint is not hit all at once."""
        exp = self.base * (2 ** min(attempts - 1, 30))
        top = min(self.ceiling, exp)
        return top * random.uniform(0.5, 1.0)

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
