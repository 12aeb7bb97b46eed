"""What every accounts use case needs, built once in the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from common.clock import Clock
from common.db import Database
from common.idempotency import IdempotencyStore
from common.outbox import Outbox
from common.workers import AfterCommit


@dataclass(frozen=True)
class AccountsContext:
    db: Database
    clock: Clock
    idempotency: IdempotencyStore
    import_chunk_rows: int  # parsed rows written per import transaction (AccountsConfig)
    outbox: Outbox
    # Customers per dunning transaction, and transactions evaluated side by side (AccountsConfig)
    dunning_batch: int = 500
    dunning_lanes: int = 1
    # Woken after commits that open or pay promises (the promise evaluator listens).
    after_commit: AfterCommit = field(default_factory=AfterCommit)
