"""Batch methods answered item by item (RaiseEscalations, RecordEscalations): each item is checked
on its own, so a bad one becomes its own error answer and the others go on; the valid ones run
together; the answers come back in the items' order. The batch's own rules (how many items) are
declared on its `items` field and checked with the rest of the request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from common import contract
from common.errors import InvalidArgument


class BatchItem(Protocol):
    """A batch's item message: the single method's request, and what travels beside it."""

    @property
    def request(self) -> Message: ...


Given = TypeVar("Given", bound=BatchItem)
Item = TypeVar("Item")
Done = TypeVar("Done")
Answer = TypeVar("Answer")


def each_checked(
    items: Iterable[Given], parse: Callable[[Given], Item]
) -> list[Item | InvalidArgument]:
    """Each item's request within its declared rules (the batch leaves them to the item's
    answer: its field is IGNORE_ALWAYS in the proto), then parsed; a refusal takes its place."""
    checked: list[Item | InvalidArgument] = []
    for item in items:
        try:
            contract.check(item.request)
            checked.append(parse(item))
        except InvalidArgument as refused:
            checked.append(refused)
    return checked


async def answered_in_order(
    items: Sequence[Item | InvalidArgument],
    run: Callable[[list[Item]], Awaitable[Sequence[Done]]],
    answer: Callable[[Done | InvalidArgument], Answer],
) -> list[Answer]:
    """`run` takes the valid items and returns one outcome each, in their order; the refused
    ones are answered with their refusal where they stood."""
    valid = [item for item in items if not isinstance(item, InvalidArgument)]
    outcomes = iter(await run(valid))
    return [answer(item if isinstance(item, InvalidArgument) else next(outcomes)) for item in items]
