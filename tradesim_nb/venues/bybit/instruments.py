"""Bybit linear perpetuals, sized in base currency (``instruments-info``, checked 2025)."""

from __future__ import annotations

from ...instruments import Instrument

__all__ = ["INSTRUMENTS"]

INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("bybit", "BTCUSDT", "swap", "BTC", "USDT", 0.1, 0.001),
    Instrument("bybit", "ETHUSDT", "swap", "ETH", "USDT", 0.01, 0.01),
)


def instruments() -> tuple[Instrument, ...]:
    return INSTRUMENTS
