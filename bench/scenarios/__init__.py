"""Scenario modules; importing this package registers them (`order=` sets the table order)."""

from bench.scenarios import aging, importing, later, reads  # noqa: F401  (registration)
