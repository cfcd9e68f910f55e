"""Instruments: what a size on a venue means in base currency and in USD.

OKX derivatives are sized in contracts (a BTC-USDT-SWAP contract is 0.01 BTC; an inverse
BTC-USD-SWAP contract is 100 USD), OKX spot in base currency; Binance and Bybit in base
currency. :class:`Instrument` converts between venue size, base quantity and quote notional.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "INSTRUMENTS",
    "Instrument",
    "InstrumentKind",
    "SizeUnit",
    "get_instrument",
    "register_instrument",
]

InstrumentKind = Literal["spot", "swap", "futures"]
ContractType = Literal["linear", "inverse"]
#: How an order size is given: base currency, venue contracts, or quote notional (USD).
SizeUnit = Literal["base", "contracts", "usd"]


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable instrument on one venue.

    Parameters
    ----------
    venue : str
        ``"okx"``, ``"binance"``, ``"binance-futures"``, ``"bybit"`` or ``"goquant"``.
    symbol : str
        The venue's instrument id (``"BTC-USDT-SWAP"``, ``"BTCUSDT"``).
    kind : {"spot", "swap", "futures"}
    base, quote : str
        Currencies (``"BTC"``, ``"USDT"``).
    tick_size : float
        Price increment (> 0).
    lot_size : float
        Size increment in the venue's size unit (> 0).
    contract_size : float
        For ``contract_type="linear"``: base units per contract (0.01 BTC); for
        ``"inverse"``: quote units (USD) per contract (100). 1.0 for spot, whose sizes are
        already in base currency.
    contract_type : {"linear", "inverse"}
    sized_in_contracts : bool
        True where the venue's book and trade sizes count contracts (OKX derivatives).
    """

    venue: str
    symbol: str
    kind: InstrumentKind
    base: str
    quote: str
    tick_size: float
    lot_size: float
    contract_size: float = 1.0
    contract_type: ContractType = "linear"
    sized_in_contracts: bool = False
    price_decimals: int = field(default=-1)

    def __post_init__(self) -> None:
        if self.kind not in ("spot", "swap", "futures"):
            raise ValueError(f"kind={self.kind!r} is not one of 'spot', 'swap', 'futures'")
        if self.contract_type not in ("linear", "inverse"):
            raise ValueError(
                f"contract_type={self.contract_type!r} is not one of 'linear', 'inverse'"
            )
        for name in ("tick_size", "lot_size", "contract_size"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name}={v!r} must be a finite number > 0")
        if self.kind == "spot" and self.sized_in_contracts:
            raise ValueError("sized_in_contracts=True is not allowed for kind='spot'")
        if self.price_decimals < 0:
            object.__setattr__(self, "price_decimals", _decimals(self.tick_size))

    @property
    def key(self) -> tuple[str, str]:
        return (self.venue, self.symbol)

    # -- conversions --------------------------------------------------------------------
    def base_per_unit(self, price: float) -> float:
        """Base-currency quantity of one unit of venue size at ``price``."""
        if not self.sized_in_contracts:
            return 1.0
        if self.contract_type == "linear":
            return self.contract_size
        return self.contract_size / price

    def to_base(self, size: float, price: float) -> float:
        """Venue size (contracts or base) → base quantity at ``price``."""
        return size * self.base_per_unit(price)

    def from_base(self, qty_base: float, price: float) -> float:
        """Base quantity → venue size at ``price``."""
        return qty_base / self.base_per_unit(price)

    def size_from(self, amount: float, unit: SizeUnit, price: float) -> float:
        """An order amount in ``unit`` → venue size, priced at ``price`` where needed."""
        if not (math.isfinite(amount) and amount >= 0):
            raise ValueError(f"amount={amount!r} must be a finite number >= 0")
        if unit == "contracts":
            return amount if self.sized_in_contracts else amount * self.contract_size
        if unit == "base":
            return self.from_base(amount, price)
        if unit == "usd":
            if not (math.isfinite(price) and price > 0):
                raise ValueError(f"price={price!r} must be > 0 to convert a USD amount")
            return self.from_base(amount / price, price)
        raise ValueError(f"unit={unit!r} is not one of 'base', 'contracts', 'usd'")


def _decimals(x: float) -> int:
    s = f"{x:.12f}".rstrip("0")
    return len(s.split(".")[1]) if "." in s else 0


def _okx(symbol: str, kind: InstrumentKind, tick: float, lot: float, ct: float = 1.0,
         ct_type: ContractType = "linear") -> Instrument:
    parts = symbol.split("-")
    return Instrument("okx", symbol, kind, parts[0], parts[1], tick, lot, ct, ct_type,
                      sized_in_contracts=kind != "spot")


# Contract specifications as published by each venue's instruments endpoint
# (OKX GET /api/v5/public/instruments, Binance exchangeInfo, Bybit instruments-info),
# checked 2025; tick sizes of dated futures follow the recording they appear in.
_DEFAULTS: tuple[Instrument, ...] = (
    _okx("BTC-USDT-SWAP", "swap", 0.1, 0.01, 0.01),
    _okx("ETH-USDT-SWAP", "swap", 0.01, 0.01, 0.1),
    _okx("SOL-USDT-SWAP", "swap", 0.01, 0.01, 1.0),
    _okx("BTC-USD-SWAP", "swap", 0.1, 1.0, 100.0, "inverse"),
    _okx("ETH-USD-SWAP", "swap", 0.01, 1.0, 10.0, "inverse"),
    _okx("UNI-USD-SWAP", "swap", 0.001, 1.0, 10.0, "inverse"),
    _okx("BTC-USD-220527", "futures", 0.1, 1.0, 100.0, "inverse"),
    _okx("BTC-USDT", "spot", 0.1, 1e-8),
    _okx("ETH-USDT", "spot", 0.01, 1e-6),
    Instrument("goquant", "BTC-USDT-SWAP", "swap", "BTC", "USDT", 0.1, 0.01, 0.01,
               sized_in_contracts=True),
    Instrument("goquant", "ETH-USDT-SWAP", "swap", "ETH", "USDT", 0.01, 0.01, 0.1,
               sized_in_contracts=True),
    Instrument("binance", "BTCUSDT", "spot", "BTC", "USDT", 0.01, 1e-5),
    Instrument("binance", "ETHUSDT", "spot", "ETH", "USDT", 0.01, 1e-4),
    Instrument("binance-futures", "BTCUSDT", "swap", "BTC", "USDT", 0.1, 0.001),
    Instrument("binance-futures", "ETHUSDT", "swap", "ETH", "USDT", 0.01, 0.001),
    Instrument("bybit", "BTCUSDT", "swap", "BTC", "USDT", 0.1, 0.001),
    Instrument("bybit", "ETHUSDT", "swap", "ETH", "USDT", 0.01, 0.01),
)

#: The registry: ``(venue, symbol) -> Instrument``. Add to it with :func:`register_instrument`.
INSTRUMENTS: dict[tuple[str, str], Instrument] = {i.key: i for i in _DEFAULTS}


def register_instrument(instrument: Instrument) -> Instrument:
    """Add or replace an instrument in the registry and return it."""
    INSTRUMENTS[instrument.key] = instrument
    return instrument


def get_instrument(venue: str, symbol: str) -> Instrument:
    """The registered instrument, or a ``KeyError`` that lists what is known for the venue."""
    try:
        return INSTRUMENTS[(venue, symbol)]
    except KeyError:
        known = sorted(s for v, s in INSTRUMENTS if v == venue)
        venues = sorted({v for v, _ in INSTRUMENTS})
        hint = (f"known {venue} symbols: {', '.join(known)}" if known
                else f"known venues: {', '.join(venues)}")
        raise KeyError(
            f"unknown instrument {symbol!r} on venue {venue!r}; {hint}; "
            "add one with tradesim_nb.register_instrument(Instrument(...))"
        ) from None
