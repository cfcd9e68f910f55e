"""OKX instruments: derivatives sized in contracts, spot in base currency.

A linear ``BTC-USDT-SWAP`` contract is 0.01 BTC; an inverse ``BTC-USD-SWAP`` contract is
100 USD. Contract specifications as published by OKX ``GET /api/v5/public/instruments``,
checked 2025; the dated future follows the recording it appears in.
"""

from __future__ import annotations

from ...instruments import ContractType, Instrument, InstrumentKind

__all__ = ["INSTRUMENTS"]


def _okx(symbol: str, kind: InstrumentKind, tick: float, lot: float, ct: float = 1.0,
         ct_type: ContractType = "linear") -> Instrument:
    parts = symbol.split("-")
    return Instrument("okx", symbol, kind, parts[0], parts[1], tick, lot, ct, ct_type,
                      sized_in_contracts=kind != "spot")


INSTRUMENTS: tuple[Instrument, ...] = (
    _okx("BTC-USDT-SWAP", "swap", 0.1, 0.01, 0.01),
    _okx("ETH-USDT-SWAP", "swap", 0.01, 0.01, 0.1),
    _okx("SOL-USDT-SWAP", "swap", 0.01, 0.01, 1.0),
    _okx("BTC-USD-SWAP", "swap", 0.1, 1.0, 100.0, "inverse"),
    _okx("ETH-USD-SWAP", "swap", 0.01, 1.0, 10.0, "inverse"),
    _okx("UNI-USD-SWAP", "swap", 0.001, 1.0, 10.0, "inverse"),
    _okx("BTC-USD-220527", "futures", 0.1, 1.0, 100.0, "inverse"),
    _okx("BTC-USDT", "spot", 0.1, 1e-8),
    _okx("ETH-USDT", "spot", 0.01, 1e-6),
)


def instruments() -> tuple[Instrument, ...]:
    return INSTRUMENTS
