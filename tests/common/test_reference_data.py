"""Reference data kept in the process: reused within its time to live, re-read after it or after
`forget()`, and a load that raced a `forget()` is not kept."""

from __future__ import annotations

import asyncio

from common.reference import ReferenceData


class Ticks:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_rows_are_reused_within_the_ttl_and_reread_after_it_or_a_change():
    ticks, loads = Ticks(), []

    async def load():
        loads.append(ticks.now)
        return len(loads)

    ref = ReferenceData(ttl_s=1.0, now=ticks)
    assert await ref.get("k", load) == 1
    ticks.now = 0.9
    assert await ref.get("k", load) == 1
    ticks.now = 1.0
    assert await ref.get("k", load) == 2
    ref.forget()
    assert await ref.get("k", load) == 3
    assert await ref.get("other", load) == 4


async def test_a_load_that_raced_a_change_is_used_but_not_kept():
    ref, gate, loads = ReferenceData(ttl_s=60), asyncio.Event(), []

    async def slow_load():
        loads.append("slow")
        await gate.wait()
        return "before the change"

    async def load():
        loads.append("fresh")
        return "after the change"

    racing = asyncio.create_task(ref.get("k", slow_load))
    await asyncio.sleep(0)
    ref.forget()  # a change committed while the old rows were being read
    gate.set()
    assert await racing == "before the change"
    assert await ref.get("k", load) == "after the change"
    assert loads == ["slow", "fresh"]
