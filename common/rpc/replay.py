"""The replay marker on the wire: a call answered from the idempotency store (the same request id
seen before; common/idempotency.py) ends with the trailer `settle-replayed: true`; a batch only
some of whose items were lists those in `settle-replayed-items` ("0,3") instead. The gateway
passes both on: as trailers over gRPC, as headers `Settle-Replayed` / `Settle-Replayed-Items`
over HTTP."""

from __future__ import annotations

from collections.abc import Iterable

import grpc

from common.idempotency import Replays

REPLAYED = "settle-replayed"
REPLAYED_ITEMS = "settle-replayed-items"
REPLAY_MARKERS = (REPLAYED, REPLAYED_ITEMS)


def replay_trailers(replays: Replays) -> tuple[tuple[str, str], ...]:
    if replays.whole:
        return ((REPLAYED, "true"),)
    if replays.items:
        return ((REPLAYED_ITEMS, ",".join(map(str, sorted(replays.items)))),)
    return ()


def tell_replayed(context: grpc.aio.ServicerContext, replays: Replays) -> None:
    """Ends a successful call with the replay trailers, when it replayed anything."""
    if said := replay_trailers(replays):
        context.set_trailing_metadata(said)


def replay_markers(metadata: Iterable[tuple[str, str | bytes]] | None) -> list[tuple[str, str]]:
    """The replay trailers among a backend call's trailing metadata (the gateway forwards them)."""
    return [(k, v) for k, v in metadata or () if k in REPLAY_MARKERS and isinstance(v, str)]
