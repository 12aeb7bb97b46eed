"""The worker loop and the after-commit wake-up (common/workers.py)."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from common.errors import Unavailable
from common.workers import AfterCommit, Wake, run_worker

LONG = 30.0  # a wait the tests must never sit through


async def test_a_wake_ends_the_wait_early():
    wake, stop = Wake(), asyncio.Event()
    waiting = asyncio.create_task(wake.wait(stop, LONG))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    wake.set()
    await asyncio.wait_for(waiting, 1)


async def test_stop_ends_the_wait():
    wake, stop = Wake(), asyncio.Event()
    waiting = asyncio.create_task(wake.wait(stop, LONG))
    await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(waiting, 1)
    assert not wake.is_set()


async def test_the_wait_ends_at_its_timeout():
    loop = asyncio.get_running_loop()
    started = loop.time()
    await Wake().wait(asyncio.Event(), 0.05)
    assert 0.04 <= loop.time() - started < 1


async def test_a_wake_set_before_waiting_is_not_lost():
    wake = Wake()
    wake.set()
    await asyncio.wait_for(wake.wait(asyncio.Event(), LONG), 1)
    wake.clear()
    assert not wake.is_set()


async def test_worker_passes_again_at_once_when_the_pass_says_zero():
    stop, passes = asyncio.Event(), []

    async def pass_once() -> float:
        passes.append(1)
        if len(passes) == 3:
            stop.set()
        return 0.0

    await asyncio.wait_for(run_worker("t", pass_once, stop, Wake(), retry_s=LONG), 1)
    assert len(passes) == 3


async def test_worker_sleeps_the_delay_its_pass_returns_until_woken():
    stop, wake, passes = asyncio.Event(), Wake(), asyncio.Queue()

    async def pass_once() -> float:
        await passes.put(1)
        return LONG

    worker = asyncio.create_task(run_worker("t", pass_once, stop, wake, retry_s=LONG))
    await asyncio.wait_for(passes.get(), 1)
    await asyncio.sleep(0.02)
    assert passes.empty()  # asleep for LONG
    wake.set()
    await asyncio.wait_for(passes.get(), 1)  # woken: the next pass at once
    stop.set()
    await asyncio.wait_for(worker, 1)  # stop ends the loop mid-sleep
    assert passes.empty()


async def test_a_wake_during_a_pass_is_not_missed():
    stop, wake, passes = asyncio.Event(), Wake(), []

    async def pass_once() -> float:
        passes.append(1)
        if len(passes) == 1:
            wake.set()  # a commit lands while the first pass runs
        else:
            stop.set()
        return LONG

    await asyncio.wait_for(run_worker("t", pass_once, stop, wake, retry_s=LONG), 1)
    assert len(passes) == 2  # the second pass came without sleeping LONG


async def test_a_set_stop_runs_no_pass():
    stop = asyncio.Event()
    stop.set()

    async def pass_once() -> float:
        raise AssertionError("no pass after stop")

    await asyncio.wait_for(run_worker("t", pass_once, stop, Wake(), retry_s=LONG), 1)


async def test_an_exception_is_logged_with_the_name_and_retried_after_retry_s():
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def pass_once() -> float:
        times.append(loop.time())
        if len(times) == 1:
            raise RuntimeError("database down")
        stop.set()
        return LONG

    with capture_logs() as logs:
        await asyncio.wait_for(run_worker("sweeper", pass_once, stop, Wake(), retry_s=0.05), 2)
    assert len(times) == 2
    assert 0.04 <= times[1] - times[0] < 1  # retry_s, not the LONG a pass would have asked for
    failed = [entry for entry in logs if entry["event"] == "worker pass failed"]
    assert len(failed) == 1
    assert failed[0]["worker"] == "sweeper"
    assert failed[0]["log_level"] == "error"
    assert failed[0]["exc_info"] is True


async def test_an_outage_is_one_warning_line_without_a_traceback():
    """Every worker fails each pass while the database is down; rendering a traceback each time
    held the event loop for seconds (requests timed out instead of answering UNAVAILABLE)."""
    stop = asyncio.Event()
    passes = 0

    async def pass_once() -> float:
        nonlocal passes
        passes += 1
        if passes == 1:
            raise Unavailable("the database is not reachable; retry", reason="DB_UNAVAILABLE")
        stop.set()
        return LONG

    with capture_logs() as logs:
        await asyncio.wait_for(run_worker("relay", pass_once, stop, Wake(), retry_s=0.01), 2)
    failed = [entry for entry in logs if entry["event"].startswith("worker pass failed")]
    assert [(e["worker"], e["log_level"], "exc_info" in e) for e in failed] == [
        ("relay", "warning", False)
    ]


def test_after_commit_without_touched_wakes_every_listener():
    signals, plain, picky = AfterCommit(), Wake(), Wake()
    signals.listen(plain)
    signals.listen(picky, wants=lambda touched: False)
    signals.changed()
    assert plain.is_set() and picky.is_set()


def test_after_commit_wakes_only_the_listeners_that_want_what_was_touched():
    signals = AfterCommit()
    relay, dispatcher, sweeper = Wake(), Wake(), Wake()
    seen = []
    signals.listen(relay)
    signals.listen(dispatcher, wants=lambda touched: touched["deliveries"] > 0)

    def sweeper_wants(touched) -> bool:
        seen.append(touched)
        return touched["clock_due"] is not None

    signals.listen(sweeper, wants=sweeper_wants)
    touched = {"deliveries": 2, "clock_due": None}
    signals.changed(touched)
    assert relay.is_set() and dispatcher.is_set()
    assert not sweeper.is_set()
    assert seen == [touched]
