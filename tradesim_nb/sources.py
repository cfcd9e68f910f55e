"""The protocol between a market generator and whatever publishes it (the local venue).

A *book source* is any object with

* ``instrument`` — the :class:`~tradesim_nb.instruments.Instrument` it quotes;
* ``snapshot() -> (bids, asks)`` — the current book, best first, as float ``(price, size)``;
* ``step() -> MarketStep`` — advance the market by one event and return what changed.

The simple random-walk generator of the live layer and the impact-aware synthetic market of
:mod:`tradesim_nb.market` both satisfy it, so the local venue can serve either. Sources are
pure and seeded: no I/O, no clock (``MarketStep.ts_ns`` is the market's own time).

A source may also say how much it trades: ``expected_volume_per_step() -> float``, the
expected traded size per ``step()`` in the instrument's size unit (the local venue's 24-hour
ticker reports it, times the steps per second, as the daily volume: the generator's truth
rather than an extrapolation of a few seconds).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol, runtime_checkable

from .instruments import Instrument

__all__ = ["BookSource", "MarketStep", "PriceLevel", "TradePrint"]

#: ``(price, size)``; a size of 0 in a :class:`MarketStep` removes the level.
PriceLevel = tuple[float, float]
#: ``(price, size, aggressor_side)`` with side ``"buy"`` or ``"sell"``.
TradePrint = tuple[float, float, str]


class MarketStep(NamedTuple):
    """One market event: changed levels (absolute sizes, 0 = removed) and trades."""

    ts_ns: int
    bids: list[PriceLevel]
    asks: list[PriceLevel]
    trades: list[TradePrint]


@runtime_checkable
class BookSource(Protocol):
    instrument: Instrument

    def snapshot(self) -> tuple[list[PriceLevel], list[PriceLevel]]: ...

    def step(self) -> MarketStep: ...
