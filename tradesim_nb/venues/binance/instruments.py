"""Binance instruments, sized in base currency (spot ``exchangeInfo`` and USD-M futures
``exchangeInfo``, checked 2025)."""

from __future__ import annotations

from ...instruments import Instrument

__all__ = ["FUTURES", "SPOT"]

SPOT: tuple[Instrument, ...] = (
    Instrument("binance", "BTCUSDT", "spot", "BTC", "USDT", 0.01, 1e-5),
    Instrument("binance", "ETHUSDT", "spot", "ETH", "USDT", 0.01, 1e-4),
)
FUTURES: tuple[Instrument, ...] = (
    Instrument("binance-futures", "BTCUSDT", "swap", "BTC", "USDT", 0.1, 0.001),
    Instrument("binance-futures", "ETHUSDT", "swap", "ETH", "USDT", 0.01, 0.001),
)


def spot() -> tuple[Instrument, ...]:
    return SPOT


def futures() -> tuple[Instrument, ...]:
    return FUTURES
