"""The scenario registry: a scenario is a coroutine that fills in its ScenarioResult. New
scenarios plug in with `@scenario(...)` in a module listed in bench/scenarios/__init__.py."""

from __future__ import annotations

import importlib.util
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


class NotAvailable(Exception):
    """What a scenario needs does not exist yet; the table says so, with the reason."""


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    target: str
    run: Callable[..., Awaitable[None]]  # (BenchEnv, ScenarioResult) -> None
    order: int  # position in the run and the table
    entry_points: tuple[str, ...] = ()  # modules that must run as `python -m <module>`

    def missing(self) -> str | None:
        absent = [m for m in self.entry_points if not _runnable(m)]
        if absent:
            return "no runnable entry point yet: " + ", ".join(f"python -m {m}" for m in absent)
        return None


def _runnable(module: str) -> bool:
    try:
        return importlib.util.find_spec(f"{module}.__main__") is not None
    except ModuleNotFoundError:
        return False


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, *, order: int, title: str, target: str, entry_points: tuple[str, ...] = ()):
    def register(run):
        SCENARIOS[name] = Scenario(name, title, target, run, order, entry_points)
        return run

    return register


def ordered() -> list[Scenario]:
    import bench.scenarios  # noqa: F401  (registers every scenario)

    return sorted(SCENARIOS.values(), key=lambda s: s.order)
