"""Fixtures shared by the accounts RPC tests, defined in their support modules."""

from tests.accounts.api.collections_support import desk  # noqa: F401
