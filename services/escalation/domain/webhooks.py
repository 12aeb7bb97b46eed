"""Webhook rules of subscriptions that need no I/O: the retry schedule (the secret's length is
the protos' contract; the signature, endpoint validation and address policy are
common/webhooks.py's)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


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
