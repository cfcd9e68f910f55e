"""``new_frozen``: an event built with its slots set in C equals the one its constructor builds,
stays frozen, and holds its references as the constructor's does."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from tradesim_nb import _book_c, _book_py
from tradesim_nb.events import BBO, BookDelta, BookSnapshot, FeedStatus, Trade

EVENTS = [BookSnapshot, BookDelta, Trade, BBO, FeedStatus]


@pytest.mark.parametrize("new", [_book_c.new_frozen, _book_py.new_frozen],
                         ids=["compiled", "python"])
@pytest.mark.parametrize("cls", EVENTS)
def test_same_event_as_the_constructor(new: object, cls: type) -> None:
    n = len(dataclasses.fields(cls))
    values = tuple([f"v{i}"] if i % 3 == 0 else (i if i % 3 == 1 else None) for i in range(n))
    ev = new(cls, values)  # type: ignore[operator]
    ref = cls(*values)
    assert type(ev) is cls and ev == ref and repr(ev) == repr(ref)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.symbol = "x"
    kept = values[0]
    before = sys.getrefcount(kept)
    del ev
    assert sys.getrefcount(kept) == before - 1  # the event's reference released with it
    with pytest.raises(TypeError):
        new(cls, values[:-1])  # type: ignore[operator]


def test_only_slotted_dataclasses() -> None:
    @dataclasses.dataclass(frozen=True)
    class Plain:
        x: int

    with pytest.raises(TypeError, match="not a slotted dataclass"):
        _book_c.new_frozen(Plain, (1,))
