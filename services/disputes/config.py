"""Disputes-specific tunables from `DISPUTES_*` variables (the shared settings are
common.settings); every one has a working default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from common.outbox import RelayPolicy


@dataclass(frozen=True)
class DisputesConfig:
    # Due milestones claimed per sweeper pass (one set of statements per table, whatever the size).
    sweep_batch: int = 200
    # The longest the sweeper sleeps between passes when nothing is due sooner.
    sweep_poll_s: float = 1.0
    # RaiseEscalation events travel in one RaiseEscalations call per pass
    # (outbound/escalation_sender.py), so a pass leases many: a burst of SLA firings is raised 200
    # at a time (~0.7 s of escalation CPU per call). Unary events (holds for accounts) go 20 at a
    # time: a burst of 100 once queued in the consumer for its pooled connections past the 5 s
    # deadline. Breaches are URGENT: leased first.
    relay: RelayPolicy = field(default_factory=lambda: RelayPolicy(batch=200, in_flight=20))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DisputesConfig:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            sweep_batch=int(_number(env, "DISPUTES_SWEEP_BATCH", defaults.sweep_batch)),
            sweep_poll_s=_number(env, "DISPUTES_SWEEP_POLL_S", defaults.sweep_poll_s),
            relay=RelayPolicy(
                batch=int(_number(env, "DISPUTES_RELAY_BATCH", defaults.relay.batch)),
                in_flight=int(_number(env, "DISPUTES_RELAY_IN_FLIGHT", defaults.relay.in_flight)),
            ),
        )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    return float(value) if value else default
