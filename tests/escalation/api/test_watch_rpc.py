"""Live delivery: WatchEscalations replays after a cursor, then follows; resuming loses nothing
and repeats nothing."""

from __future__ import annotations

import asyncio

import grpc

from common.clock import ManualClock
from services.escalation.api.cursors import WatchCursors
from settle.escalation.v1 import escalation_pb2 as pb
from tests.escalation.support import START, raise_request, start_escalation
from tests.support.rpc import TEST_SECRET, as_actor, expect_error


class Stream:
    """Reads a watch in the background: cancelling a pending read() would cancel the RPC."""

    def __init__(self, call):
        self.call = call
        self.queue: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.create_task(self._pump())

    async def _pump(self):
        while (message := await self.call.read()) is not grpc.aio.EOF:
            self.queue.put_nowait(message)
        self.queue.put_nowait(None)

    async def take(self, n: int, within: float = 5.0) -> list[pb.EscalationEvent]:
        got = []
        for _ in range(n):
            message = await asyncio.wait_for(self.queue.get(), within)
            assert message is not None, f"stream ended after {len(got)} events"
            got.append(message)
        return got

    async def nothing_more(self, wait: float = 0.4) -> None:
        await asyncio.sleep(wait)
        assert self.queue.empty(), f"unexpected event: {self.queue.get_nowait()}"

    def cancel(self) -> None:
        self.call.cancel()
        self.task.cancel()


def open_watch(esc, **kw) -> Stream:
    return Stream(esc.stub.WatchEscalations(pb.WatchEscalationsRequest(**kw)))


def subject(i: int) -> str:
    return f"disputes/{i:032x}"


async def now_cursor(esc) -> str:
    """The caller's cursor for the feed as it stands (cursors are opaque: none is typed in)."""
    return (await esc.stub.ListEscalations(pb.ListEscalationsRequest(page_size=1))).watch_cursor


def positions(events) -> list[int]:
    """The feed positions the (default, unscoped) caller's cursors stand for."""
    cursors = WatchCursors(TEST_SECRET)
    return [cursors.open(e.cursor) for e in events]  # type: ignore[misc]


async def test_resume_from_cursor_misses_nothing_and_repeats_nothing(esc):
    watch = open_watch(esc, cursor=await now_cursor(esc))
    made = [
        await esc.stub.RaiseEscalation(raise_request(subject(i), team=pb.SALES)) for i in range(3)
    ]
    first = await watch.take(3)
    assert [e.type for e in first] == ["escalation.raised"] * 3
    assert [e.escalation.name for e in first] == [m.name for m in made]
    watch.cancel()
    # While disconnected: more changes.
    claimed = await esc.stub.ClaimEscalation(pb.ClaimEscalationRequest(name=made[0].name))
    more = await esc.stub.RaiseEscalation(raise_request(subject(9), team=pb.GBS))
    resumed = open_watch(esc, cursor=first[-1].cursor)
    missed = await resumed.take(2)
    assert [(e.type, e.escalation.name) for e in missed] == [
        ("escalation.claimed", claimed.name),
        ("escalation.raised", more.name),
    ]
    assert missed[0].escalation.state == pb.CLAIMED and missed[0].escalation.etag == claimed.etag
    await resumed.nothing_more()
    # Then it follows live.
    live = await esc.stub.RaiseEscalation(raise_request(subject(10), team=pb.LEGAL))
    assert (await resumed.take(1))[0].escalation.name == live.name
    resumed.cancel()
    cursors = positions((*first, *missed))
    assert cursors == sorted(set(cursors))


async def test_team_watch_and_list_then_watch(esc):
    await esc.stub.RaiseEscalation(raise_request(subject(1), team=pb.SALES))
    listed = await esc.stub.ListEscalations(pb.ListEscalationsRequest(filter="team=GBS"))
    watch = open_watch(esc, team=pb.GBS, cursor=listed.watch_cursor)
    await esc.stub.RaiseEscalation(raise_request(subject(2), team=pb.SALES))
    gbs = await esc.stub.RaiseEscalation(raise_request(subject(3), team=pb.GBS))
    (event,) = await watch.take(1)
    assert event.escalation.name == gbs.name and event.escalation.team == pb.GBS
    await watch.nothing_more()
    watch.cancel()


async def test_no_cursor_starts_with_the_next_change(esc):
    await esc.stub.RaiseEscalation(raise_request(subject(1), team=pb.SALES))
    watch = open_watch(esc)
    await asyncio.sleep(1.0)  # the stream has read its starting point (one query)
    later = await esc.stub.RaiseEscalation(raise_request(subject(2), team=pb.SALES))
    (event,) = await watch.take(1)
    assert event.escalation.name == later.name
    watch.cancel()


async def test_concurrent_writers_give_a_gapless_ordered_feed(esc):
    watch = open_watch(esc, cursor=await now_cursor(esc))
    await asyncio.gather(
        *(esc.stub.RaiseEscalation(raise_request(subject(i), team=pb.GBS)) for i in range(12))
    )
    events = await watch.take(12)
    assert positions(events) == list(range(1, 13))
    assert len({e.escalation.name for e in events}) == 12
    await watch.nothing_more()
    watch.cancel()


async def test_resume_after_a_restart_of_the_service(escalation_url):
    clock = ManualClock(START)
    async with start_escalation(escalation_url, clock) as esc:
        start = await now_cursor(esc)
        first = await esc.stub.RaiseEscalation(raise_request(subject(1), team=pb.SALES))
        watch = open_watch(esc, cursor=start)
        (seen,) = await watch.take(1)
        assert seen.escalation.name == first.name
        await esc.stub.RaiseEscalation(raise_request(subject(2), team=pb.SALES))
    # The server stopped: the stream ended (not hung), and its client resumes elsewhere.
    async with start_escalation(escalation_url, clock) as esc:
        await esc.stub.RaiseEscalation(raise_request(subject(3), team=pb.SALES))
        resumed = open_watch(esc, cursor=seen.cursor)
        events = await resumed.take(2)
        assert [e.escalation.subject for e in events] == [subject(2), subject(3)]
        resumed.cancel()


async def test_scope_and_bad_cursor(esc):
    as_actor("user:sam", "sales", team="SALES")
    await expect_error(
        esc.stub.WatchEscalations(pb.WatchEscalationsRequest(team=pb.GBS)).read(),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    await expect_error(
        esc.stub.WatchEscalations(pb.WatchEscalationsRequest(cursor="abc")).read(),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="cursor",
    )
    start = await now_cursor(esc)
    as_actor("service:disputes", "service")
    await esc.stub.RaiseEscalation(raise_request(subject(1), team=pb.GBS))
    sales = await esc.stub.RaiseEscalation(raise_request(subject(2), team=pb.SALES))
    as_actor("user:sam", "sales", team="SALES")
    watch = open_watch(esc, cursor=start)
    (event,) = await watch.take(1)  # team scope applies even without naming a team
    assert event.escalation.name == sales.name
    await watch.nothing_more()
    watch.cancel()


async def test_cursors_are_opaque_per_team_and_refused_to_other_teams(esc):
    """A Sales user's cursor says nothing of other teams' work, and works only for Sales."""
    as_actor("user:sam", "sales", team="SALES")
    quiet = await now_cursor(esc)
    as_actor("service:disputes", "service")
    for i in range(3):
        await esc.stub.RaiseEscalation(raise_request(subject(i), team=pb.GBS))
    everyone = await now_cursor(esc)
    as_actor("user:gina", "gbs", team="GBS")
    gbs = await now_cursor(esc)
    as_actor("user:sam", "sales", team="SALES")
    listed = await esc.stub.ListEscalations(pb.ListEscalationsRequest())
    assert not listed.escalations
    assert listed.watch_cursor not in ("0", "3") and not listed.watch_cursor.isdigit()
    assert listed.watch_cursor != quiet  # sealed afresh each time: equal positions look different
    # Opened as Sales: other teams' work did not move the Sales position.
    sealed = [pb.EscalationEvent(cursor=c) for c in (quiet, listed.watch_cursor)]
    assert positions(sealed) == [0, 0]
    for foreign in (everyone, gbs, "3", "1", quiet[:-2] + ("AA" if quiet[-2:] != "AA" else "BB")):
        await expect_error(
            esc.stub.WatchEscalations(pb.WatchEscalationsRequest(cursor=foreign)).read(),
            grpc.StatusCode.INVALID_ARGUMENT,
            field="cursor",
        )
    watch = open_watch(esc, cursor=listed.watch_cursor)
    from_start = open_watch(esc, cursor="0")  # the start of the feed, as Sales sees it
    as_actor("service:disputes", "service")
    sales = await esc.stub.RaiseEscalation(raise_request(subject(7), team=pb.SALES))
    (event,) = await watch.take(1)
    assert event.escalation.name == sales.name and not event.cursor.isdigit()
    assert [e.escalation.name for e in await from_start.take(1)] == [sales.name]
    await from_start.nothing_more()
    watch.cancel()
    from_start.cancel()
