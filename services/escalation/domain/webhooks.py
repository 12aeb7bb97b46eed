"""Webhook rules of subscriptions that need no I/O: the secret and the retry schedule (the
signature, endpoint validation and address policy are common/webhooks.py's)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from common.errors import Violations

MIN_SECRET, MAX_SECRET = 16, 256


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
