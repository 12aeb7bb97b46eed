"""Accounts-specific tunables from `ACCOUNTS_*` variables (the shared settings are
common.settings); every one has a working default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class AccountsConfig:
    # The largest CSV an ImportOpenItems stream may carry.
    import_max_bytes: int = 64 * 1024 * 1024
    # Parsed import rows written per transaction: the memory an import holds at once.
    import_chunk_rows: int = 1000
    # Promises judged per evaluator transaction, and its longest sleep between passes.
    promise_batch: int = 500
    promise_poll_s: float = 5.0
    # Dunning notices: smtp://host[:port], smtps://… or file:<dir> (default: the var/mail drop).
    mail_url: str = "file:"
    mail_from: str = "ar@settle.localhost"  # also the domain of the notices' Message-IDs
    # Customers evaluated per dunning transaction, transactions of a run evaluated side by side
    # (PostgreSQL), and how often the daily run looks for new ones.
    dunning_batch: int = 500
    dunning_lanes: int = 2
    dunning_every_s: float = 900.0
    # Whether this process runs the daily dunning run and the notice sender, the Legal notifier
    # and the report schedules (a replica, a benchmark or a test of something else may leave them
    # to another).
    dunning_worker: bool = True
    legal_worker: bool = True
    reports_worker: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AccountsConfig:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            import_max_bytes=_int(env, "ACCOUNTS_IMPORT_MAX_BYTES", defaults.import_max_bytes),
            import_chunk_rows=_int(env, "ACCOUNTS_IMPORT_CHUNK_ROWS", defaults.import_chunk_rows),
            promise_batch=_int(env, "ACCOUNTS_PROMISE_BATCH", defaults.promise_batch),
            promise_poll_s=float(env.get("ACCOUNTS_PROMISE_POLL_S") or defaults.promise_poll_s),
            mail_url=env.get("ACCOUNTS_MAIL_URL") or defaults.mail_url,
            mail_from=env.get("ACCOUNTS_MAIL_FROM") or defaults.mail_from,
            dunning_batch=_int(env, "ACCOUNTS_DUNNING_BATCH", defaults.dunning_batch),
            dunning_lanes=_int(env, "ACCOUNTS_DUNNING_LANES", defaults.dunning_lanes),
            dunning_every_s=float(env.get("ACCOUNTS_DUNNING_EVERY_S") or defaults.dunning_every_s),
            dunning_worker=_switch(env, "ACCOUNTS_DUNNING_WORKER", defaults.dunning_worker),
            legal_worker=_switch(env, "ACCOUNTS_LEGAL_WORKER", defaults.legal_worker),
            reports_worker=_switch(env, "ACCOUNTS_REPORTS_WORKER", defaults.reports_worker),
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    return int(value) if value else default


_ON, _OFF = ("on", "true", "1", "yes"), ("off", "false", "0", "no")


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = (env.get(name) or "").strip().lower()
    if not value:
        return default
    if value not in _ON + _OFF:
        raise ValueError(f"{name} must be on or off, not {value!r}")
    return value in _ON
