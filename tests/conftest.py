"""Fixtures every test can use: per-test databases on SQLite and PostgreSQL (parametrised), made
by the real migrations."""

from __future__ import annotations

import pytest

from tests.support.databases import DatabaseFactory, require_postgres

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory):
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.cleanup()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    if request.param == "postgres":
        require_postgres()
    return request.param


@pytest.fixture
def postgres_backend() -> str:
    """For tests that only make sense on PostgreSQL (row locks, concurrency)."""
    require_postgres()
    return "postgres"
