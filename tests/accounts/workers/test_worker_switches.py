"""ACCOUNTS_DUNNING_WORKER and ACCOUNTS_LEGAL_WORKER: a process may leave the dunning run with the
notice sender, and the Legal notifier, to another (the bench's accounts does)."""

from __future__ import annotations

import pytest

from services.accounts.config import AccountsConfig
from services.accounts.server import assemble
from tests.accounts.conftest import accounts_settings


def test_the_switches_default_on_and_read_on_and_off():
    assert AccountsConfig.from_env({}).dunning_worker and AccountsConfig.from_env({}).legal_worker
    off = AccountsConfig.from_env({"ACCOUNTS_DUNNING_WORKER": "off", "ACCOUNTS_LEGAL_WORKER": "0"})
    assert (off.dunning_worker, off.legal_worker) == (False, False)
    on = AccountsConfig.from_env({"ACCOUNTS_DUNNING_WORKER": "ON"})
    assert on.dunning_worker
    with pytest.raises(ValueError, match="ACCOUNTS_LEGAL_WORKER"):
        AccountsConfig.from_env({"ACCOUNTS_LEGAL_WORKER": "sometimes"})


@pytest.mark.parametrize(
    ("dunning", "legal"), [("on", "on"), ("off", "on"), ("on", "off"), ("off", "off")]
)
def test_a_process_runs_only_the_workers_switched_on(tmp_path, monkeypatch, dunning, legal):
    monkeypatch.setenv("ACCOUNTS_DUNNING_WORKER", dunning)
    monkeypatch.setenv("ACCOUNTS_LEGAL_WORKER", legal)
    parts = assemble(accounts_settings(f"sqlite+aiosqlite:///{tmp_path}/a.db"))
    running = set(parts.process.workers)
    for worker, switch in (
        (parts.dunning.run, dunning), (parts.notices.run, dunning), (parts.legal.run, legal),
    ):  # fmt: skip
        assert (worker in running) == (switch == "on")
    assert parts.evaluator.run in running and parts.relay.run in running
