"""Escalation-specific settings from the environment (the shared ones are common.settings)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

from common.outbox import RelayPolicy
from services.escalation.domain.webhooks import RetryPolicy
from services.escalation.workers.webhooks import DispatchPolicy

# RecordEscalation events travel in one RecordEscalations call per pass
# (outbound/disputes_sender.py): one transaction in disputes however many a pass leases, so a burst
# of breaches is recorded up to 200 at a time. Unary events (ApplyEscalationAnswer) go 20 at a
# time (RelayPolicy.in_flight): a burst of 100 once queued in disputes for its pooled connections
# behind the SLA sweeper's own passes.
RELAY_BATCH = 200


def _float(environ, name: str, default: float) -> float:
    value = environ.get(name)
    return float(value) if value not in (None, "") else default


@dataclass(frozen=True)
class EscalationConfig:
    sweep_poll_s: float = 1.0
    watch_poll_s: float = 1.0
    dispatch: DispatchPolicy = field(default_factory=DispatchPolicy)
    relay: RelayPolicy = field(default_factory=lambda: RelayPolicy(batch=RELAY_BATCH))
    # Hosts and networks (CIDRs) webhooks may reach although they are not public addresses,
    # e.g. "10.20.0.0/16,hooks.internal" (ESCALATION_WEBHOOK_ALLOW, comma-separated).
    webhook_allow: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ=None) -> EscalationConfig:
        env = os.environ if environ is None else environ
        retry = RetryPolicy(
            max_attempts=int(_float(env, "ESCALATION_WEBHOOK_MAX_ATTEMPTS", 20)),
            base=timedelta(seconds=_float(env, "ESCALATION_WEBHOOK_BACKOFF_S", 1.0)),
            ceiling=timedelta(seconds=_float(env, "ESCALATION_WEBHOOK_MAX_BACKOFF_S", 3600)),
        )
        return cls(
            sweep_poll_s=_float(env, "ESCALATION_SWEEP_POLL_S", 1.0),
            watch_poll_s=_float(env, "ESCALATION_WATCH_POLL_S", 1.0),
            dispatch=DispatchPolicy(
                retry=retry, timeout_s=_float(env, "ESCALATION_WEBHOOK_TIMEOUT_S", 5.0)
            ),
            webhook_allow=tuple(
                e.strip() for e in env.get("ESCALATION_WEBHOOK_ALLOW", "").split(",") if e.strip()
            ),
        )
