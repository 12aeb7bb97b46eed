"""What every accounts use case needs, built once in the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from common.clock import Clock
from common.db import Database
from common.idempotency import IdempotencyStore


@dataclass(frozen=True)
class AccountsContext:
    db: Database
    clock: Clock
    idempotency: IdempotencyStore
    import_chunk_rows: int  # parsed rows written per import transaction (AccountsConfig)
