from tests.accounts.conftest import accounts  # noqa: F401  (a real accounts server as consumer)
