"""The GoQuant relay's instruments: OKX perpetual swaps, sized in contracts."""

from __future__ import annotations

from ...instruments import Instrument

__all__ = ["INSTRUMENTS"]

INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("goquant", "BTC-USDT-SWAP", "swap", "BTC", "USDT", 0.1, 0.01, 0.01,
               sized_in_contracts=True),
    Instrument("goquant", "ETH-USDT-SWAP", "swap", "ETH", "USDT", 0.01, 0.01, 0.1,
               sized_in_contracts=True),
)


def instruments() -> tuple[Instrument, ...]:
    return INSTRUMENTS
