from __future__ import annotations

import pytest

from tests.gateway.support import running_stack


@pytest.fixture(scope="module")
def stack(database_factory):
    """One gateway and every backend for a whole test module (the gateway keeps no state)."""
    with running_stack(database_factory) as running:
        yield running
