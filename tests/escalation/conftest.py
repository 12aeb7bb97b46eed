from __future__ import annotations

import pytest

from common.clock import ManualClock
from tests.escalation.support import START, start_escalation


@pytest.fixture
def escalation_url(backend, database_factory) -> str:
    return database_factory.new_url(backend, "escalation")


@pytest.fixture
async def esc(escalation_url):
    """The service with its workers off: tests run the sweeper and dispatcher by hand."""
    async with start_escalation(escalation_url, ManualClock(START)) as harness:
        yield harness
