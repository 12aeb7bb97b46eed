"""Scenario modules; importing this package registers them (`order=` sets the table order)."""

from bench.scenarios import (  # noqa: F401
    aging,
    cases,
    collections,
    dunning,
    gateway_path,
    importing,
    reads,
    report_exports,
    reports,
    sweeper,
)
